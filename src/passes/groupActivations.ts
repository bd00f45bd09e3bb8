import type { Model } from '../ir/model.js';
import type { CalibrationStats } from './calibrationStats.js';
import { forEachWeight, groupConsumers } from './consumers.js';
import type { ChannelGroup } from './dependency/groups.js';
import type { ConsumerActivations, UnitActivations } from './scoring/index.js';

/**
 * A group's calibration statistics joined with its consumers' weights, as the plain numbers the activation-aware
 * criteria score: per consumer input position its sums over the calibration data and Σ|W|, ΣW² of the weights it
 * multiplies (all output features and kernel taps).
 */
export function groupActivations(model: Model, group: ChannelGroup, stats: CalibrationStats): UnitActivations {
  const consumers: ConsumerActivations[] = groupConsumers(model, group).map((c) => {
    const site = stats.sites.find((s) => s.value === c.input.name && s.axis === c.axis);
    const k = c.unitOf.length;
    const base = { name: c.node.label, unitOf: c.unitOf, count: site?.count ?? 0, sum: site?.sum ?? new Float64Array(k), sumSq: site?.sumSq ?? new Float64Array(k) };
    if (!site) return { ...base, weightNote: `no calibration statistics for its input '${c.input.name}'` };
    if (!c.tensor) return { ...base, weightNote: 'its weight is not a stored constant' };
    const weightAbs = new Float64Array(k);
    const weightSq = new Float64Array(k);
    forEachWeight(c.tensor, c.weight.axis, c.weight.outAxis, (p, _o, w) => {
      weightAbs[p] += Math.abs(w);
      weightSq[p] += w * w;
    });
    return { ...base, weightAbs, weightSq };
  });
  return {
    units: stats.units, samples: stats.samples, activeFraction: stats.activeFraction,
    ...(stats.gram ? { gram: stats.gram } : {}), ...(stats.gramNote ? { gramNote: stats.gramNote } : {}), consumers,
  };
}
