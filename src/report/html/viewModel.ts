import { basename } from 'node:path';
import type { SavedGroupReport, SavedReport } from '../schema.js';
import type { PageData, PageFigure, PageGroup } from './pageData.js';

/** The page's data for a saved report: what the page shows, rounded where the page cannot show more digits. */
export function pageData(r: SavedReport): PageData {
  const keep = r.options.keep;
  return {
    title: `${basename(r.input)} → ${basename(r.output)}`,
    input: r.input,
    output: r.output,
    figures: figures(r),
    options: options(r),
    notices: notices(r),
    keep,
    threshold: r.threshold,
    groups: r.groups.map((g) => pageGroup(g, keep)),
    ...(r.validation ? {
      validation: {
        ep: r.validation.ep,
        data: `${r.validation.data.samples} ${r.validation.data.labelled ? 'labelled' : 'unlabelled'} samples from ${r.validation.data.source}`,
        outputs: r.validation.outputs.map(({ name, shapesMatch, maxAbs, meanAbs, maxRel, meanRel, top1Agreement }) =>
          ({ name, shapesMatch, maxAbs, meanAbs, maxRel, meanRel, ...(top1Agreement !== undefined ? { top1Agreement } : {}) })),
        latency: r.validation.latency.map((p) => ({ batch: p.batch, originalMs: p.original.medianMs, prunedMs: p.pruned.medianMs, ratio: p.ratio })),
      },
    } : {}),
    ...(r.finetune ? {
      finetune: {
        mode: r.finetune.mode, bestEpoch: r.finetune.bestEpoch, initialAccuracy: r.finetune.initial.accuracy,
        history: r.finetune.history.map(({ seconds: _s, ...epoch }) => epoch),
      },
    } : {}),
  };
}

function figures(r: SavedReport): PageFigure[] {
  const out: PageFigure[] = [
    { label: 'parameters', before: r.params.before, after: r.params.after, format: 'count', lowerIsBetter: true },
    { label: 'MACs', before: r.macs.before, after: r.macs.after, format: 'count', lowerIsBetter: true },
  ];
  const v = r.validation;
  const latency = v?.latency.find((p) => p.batch === 1) ?? v?.latency[0];
  if (latency) out.push({ label: `latency (batch ${latency.batch}, ${v!.ep})`, before: latency.original.medianMs, after: latency.pruned.medianMs, format: 'ms', lowerIsBetter: true });
  if (v?.accuracy) out.push({ label: `accuracy (${v.accuracy.samples} samples)`, before: v.accuracy.original, after: v.accuracy.pruned, format: 'percent', lowerIsBetter: false });
  const f = r.finetune;
  const best = f?.history.find((h) => h.epoch === f.bestEpoch);
  if (f && best) {
    const split = best.valAccuracy !== undefined ? 'validation' : 'training';
    out.push({ label: `fine-tuning (${split} accuracy)`, before: f.initial.accuracy, after: best.valAccuracy ?? best.accuracy, format: 'percent', lowerIsBetter: false });
  }
  return out;
}

function options(r: SavedReport): [string, string][] {
  const o = r.options;
  const rows: [string, string][] = [
    ['method', r.method],
    ['ratio', String(r.ratio)],
    ['threshold τ', String(r.threshold)],
    ['scope', r.scope],
    ['edge weights', o.weighted ? 'cosine similarity' : 'unweighted (1)'],
    ['keep', o.keep],
    ['coupling', o.coupling],
    ['ranking', o.global ? 'global (scores over their group mean)' : 'per group'],
    ['round to', String(o.roundTo)],
    ['min channels', String(o.minChannels)],
    ['seed', String(o.seed)],
  ];
  // Reports written before --prune-residual existed pruned residual streams and do not say so.
  if (o.pruneResidual !== undefined) rows.push(['residual streams', o.pruneResidual ? 'pruned (--prune-residual)' : `kept at full width${r.residualKept ? ` (${r.residualKept})` : ''}`]);
  if (o.layers) rows.push(['layers', o.layers.join(', ')]);
  if (o.exclude) rows.push(['exclude', o.exclude.join(', ')]);
  if (o.layerRatios) rows.push(['layer ratios', o.layerRatios.map((l) => `${l.pattern}: ${l.ratio}`).join(', ')]);
  if (r.target) rows.push([`target ${r.target.measure}`, `${r.target.fraction} (reached ${r.target.reached.toFixed(3)})`]);
  return rows;
}

function notices(r: SavedReport): string[] {
  const out: string[] = [];
  const t = r.target;
  if (t && !t.met) out.push(`--target-${t.measure} ${t.fraction} is out of reach: the largest ratio searched leaves ${(100 * t.reached).toFixed(1)}% of the ${t.measure}.`);
  if (r.validation?.notice) out.push(r.validation.notice);
  out.push(...(r.validation?.notes ?? []));
  if (r.finetune?.features?.notice) out.push(r.finetune.features.notice);
  return out;
}

function pageGroup(g: SavedGroupReport, keep: 'central' | 'peripheral'): PageGroup {
  const extra = g.producers.length - 1;
  const base: PageGroup = {
    id: g.id, label: `${g.producers[0] ?? `group ${g.id}`}${extra > 0 ? ` +${extra}` : ''}`, producers: g.producers, kind: g.kind,
    units: g.channels, kept: g.kept.length,
  };
  if (g.declined !== undefined) return { ...base, declined: g.declined };
  const kept = new Set(g.kept);
  const status = Array.from({ length: g.channels }, (_, i) => (kept.has(i) ? '1' : '0')).join('');
  const scores = g.scores?.map(round4);
  const cut = g.scores ? cutScore(g.scores, kept, keep) : undefined;
  return {
    ...base,
    status,
    ...(g.method !== undefined ? { method: g.method } : {}),
    ...(g.iterations !== undefined ? { iterations: g.iterations } : {}),
    ...(g.converged !== undefined ? { converged: g.converged } : {}),
    ...(g.components !== undefined ? { components: g.components } : {}),
    ...(g.edges !== undefined ? { edges: g.edges } : {}),
    ...(g.density !== undefined ? { density: g.density } : {}),
    ...(g.note !== undefined ? { note: g.note } : {}),
    ...(g.layer ? { layer: { params: [g.layer.params.before, g.layer.params.after], macs: [g.layer.macs.before, g.layer.macs.after] } } : {}),
    ...(scores ? { scores } : {}),
    ...(cut !== undefined ? { cut: round4(cut) } : {}),
    ...(g.graphs ? {
      graphs: g.graphs.map((p, i) => ({
        ...(g.graphs!.length > 1 ? { producer: g.producers[i] ?? `producer ${i}` } : {}),
        degrees: p.degrees,
        ...(p.edges ? { edges: p.edges } : {}),
        total: p.degrees.reduce((s, d) => s + d, 0) / 2,
      })),
    } : {}),
    ...(g.calibration ? { activeFraction: g.calibration.activeFraction.map(round4) } : {}),
  };
}

/**
 * Where the ranking cut: midway between the best removed and the worst kept score ('central'; mirrored for
 * 'peripheral'). Undefined when nothing or everything was removed.
 */
export function cutScore(scores: readonly number[], kept: ReadonlySet<number>, keep: 'central' | 'peripheral'): number | undefined {
  const sign = keep === 'central' ? 1 : -1;
  let removedBest = -Infinity;
  let keptWorst = Infinity;
  scores.forEach((s, i) => {
    if (kept.has(i)) keptWorst = Math.min(keptWorst, sign * s);
    else removedBest = Math.max(removedBest, sign * s);
  });
  if (!Number.isFinite(removedBest) || !Number.isFinite(keptWorst)) return undefined;
  // A unit put back to keep a Split segment or Concat branch alive can score below removed ones: cut at the removed.
  return sign * (removedBest <= keptWorst ? (removedBest + keptWorst) / 2 : removedBest);
}

function round4(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(4));
}
