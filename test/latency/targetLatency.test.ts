/**
 * `--target-latency` through the library pass with a deterministic cost model instead of a clock: "latency" is
 * MACs plus output elements (a compute term bilinear in a conv's two widths and a memory term linear in them),
 * computed from the models the pass hands the meter. Checks the sub-graph probes against the whole model, the
 * lookup table's prediction against the "measurement", the widths against the rounding lattice, and that the
 * pruned models still run in onnxruntime.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { ModelBuilder } from '../../src/ir/builder.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { modelStats } from '../../src/ir/stats.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { centralityPrune } from '../../src/passes/centralityPrune.js';
import { groupProbe, pairProbe } from '../../src/passes/policy/latencyProbe.js';
import { sharingPairs } from '../../src/passes/policy/latencyTarget.js';
import type { CostCurve, CostProbe, LatencyMeter, SavingsTable } from '../../src/passes/policy/latencyTable.js';
import { pruneChannels } from '../../src/passes/pruneChannels.js';
import { feedsFor, fixtureBytes, fixtureFeeds, runOrt } from '../support/index.js';

/** Deterministic "latency": MACs + 4 × output elements of every node (batch 1). */
function cost(m: Model): number {
  const stats = modelStats(m);
  let elements = 0;
  for (const n of m.graph.nodes) {
    for (const o of n.outputs) {
      const dims = o?.shape?.map((d) => (typeof d === 'number' ? d : 1));
      if (dims && o!.elemType === 1) elements += dims.reduce((a, b) => a * b, 1);
    }
  }
  return stats.macs + 4 * elements;
}

/** A LatencyMeter over `cost`, counting what it was asked. */
class CostMeter implements LatencyMeter {
  built = 0;
  compared = 0;
  readonly table = new Map<string, CostCurve>();
  constructor(private readonly original: Model) {}

  async savings(probes: readonly CostProbe[]): Promise<SavingsTable> {
    const base = cost(this.original);
    let measured = 0;
    for (const p of probes) {
      if (this.table.has(p.key)) continue;
      const full = cost(p.build(p.units));
      this.built++;
      this.table.set(p.key, { units: p.units, points: p.widths.map((w) => ({ units: w, saving: (full - cost(p.build(w))) / base })) });
      measured += p.widths.length;
    }
    const asked = probes.reduce((s, p) => s + p.widths.length, 0);
    return { curves: this.table, modelMs: base, measured, cached: asked - measured };
  }

  async compare(candidate: Model): Promise<{ originalMs: number; prunedMs: number }> {
    this.compared++;
    return { originalMs: cost(this.original), prunedMs: cost(candidate) };
  }
}

describe('group probes', () => {
  it.each(['resnet18', 'mobilenet_v2', 'efficientnet_b0', 'vit'])('%s: a group\'s sub-graph saves exactly what the whole model saves', (name) => {
    const bytes = fixtureBytes(name);
    const model = decodeModel(bytes);
    const groups = analyze(model).filter((g) => g.prunable);
    let subGraphs = 0;
    for (const g of groups.slice(0, 6)) {
      const w = Math.max(1, Math.floor(g.channels / 2));
      const probe = groupProbe(bytes, model, g, [w], model.baseDir);
      const subFull = probe.build(g.channels);
      const subCut = probe.build(w);
      const whole = decodeModel(bytes);
      const wholeCut = pruneGroup(decodeModel(bytes), g.id, w);
      expect(modelStats(subFull).macs - modelStats(subCut).macs).toBe(modelStats(whole).macs - modelStats(wholeCut).macs);
      if (probe.scope === 'sub-graph') {
        subGraphs++;
        expect(subFull.graph.nodes.length).toBeLessThan(whole.graph.nodes.length);
      }
    }
    expect(subGraphs, 'conv and transformer groups cut out as sub-graphs').toBeGreaterThan(0);
  });

  it('falls back to the whole model when a tensor entering the sub-graph has an unknown size', async () => {
    // Symbolic height and width: no tensor inside has a static shape to feed.
    const b = new ModelBuilder(17);
    const x = b.input('x', ['N', 3, 'H', 'W']);
    const h = b.op('Relu', [b.op('Conv', [x, b.weight('w1', [16, 3, 3, 3]), b.weight('b1', [16])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
    const h2 = b.op('Relu', [b.op('Conv', [h, b.weight('w2', [16, 16, 3, 3]), b.weight('b2', [16])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
    b.output(b.op('Conv', [h2, b.weight('w3', [4, 16, 1, 1])], { kernel_shape: [1, 1] }));
    const bytes = encodeModel(b.build());
    const model = decodeModel(bytes);
    const groups = analyze(model).filter((g) => g.prunable);
    const second = groups.find((g) => g.producers[0]!.input(1)!.name === 'w2')!;
    const probe = groupProbe(bytes, model, second, [8], model.baseDir);
    const cut = probe.build(8);
    expect(probe.scope).toBe('whole model');
    expect(cut.graph.nodes.length).toBe(model.graph.nodes.length);
    const out = await runOrt(encodeModel(cut), { x: new ort.Tensor('float32', new Float32Array(3 * 8 * 8).fill(0.5), [1, 3, 8, 8]) });
    expect(Object.values(out)[0]!.dims).toEqual([1, 4, 8, 8]);
  });

  it('the cut sub-graphs run in onnxruntime', async () => {
    const bytes = fixtureBytes('mobilenet_v2');
    const model = decodeModel(bytes);
    const groups = analyze(model).filter((g) => g.prunable);
    const [a, b] = sharingPairs(groups)[0]!;
    const probe = pairProbe(bytes, model, groups[a]!, Math.ceil(groups[a]!.channels / 2), groups[b]!, Math.ceil(groups[b]!.channels / 2), model.baseDir);
    for (const units of [0, 1]) {
      const m = probe.build(units);
      const out = await runOrt(encodeModel(m), feedsFor(m, { seed: 1 }));
      expect(Object.keys(out).length).toBe(m.graph.outputs.length);
    }
    expect(probe.scope).toBe('sub-graph');
  });
});

describe('--target-latency with a deterministic cost model', () => {
  it.each([
    ['resnet18', 'conv', 8, 0.5],
    ['mobilenet_v2', 'all', 4, 0.6],
    ['efficientnet_b0', 'all', 8, 0.5],
    ['vgg11', 'all', 1, 0.4],
  ] as const)('%s --scope %s --round-to %d --target-latency %d', async (name, scope, roundTo, target) => {
    const bytes = fixtureBytes(name);
    const model = decodeModel(bytes);
    const meter = new CostMeter(decodeModel(bytes));
    const report = await centralityPrune(model, { scope, roundTo, roundDense: true, pruneResidual: true, targetLatency: target, latencyMeter: meter, method: 'l2' });
    const lt = report.latencyTarget!;
    expect(lt.fraction).toBe(target);
    // The pair terms make the prediction exact for this cost model (compute bilinear, memory linear in the widths).
    expect(Math.abs(lt.measured - lt.predicted)).toBeLessThan(0.01);
    expect(lt.met).toBe(true);
    expect(lt.measured).toBeLessThanOrEqual(target + 0.02);
    // These fixtures are narrow (8–64 channels): a lattice step is a large share, so the last step may overshoot.
    expect(lt.measured).toBeGreaterThan(target - 0.1);
    expect(lt.table.pairs).toBeGreaterThan(0);
    // What the report says is what the model is.
    expect(cost(model) / cost(decodeModel(bytes))).toBeCloseTo(lt.measured, 9);
    for (const g of report.groups.filter((x) => !x.declined)) {
      // Rounded, unless the group is no wider than the multiple (then no multiple lies below its width).
      expect(g.kept.length % roundTo === 0 || g.kept.length === g.channels || g.channels <= roundTo, `${g.producers[0]} keeps ${g.kept.length}`).toBe(true);
      expect(g.removedRatio).toBeCloseTo(g.removed.length / g.channels, 12);
    }
    // Groups are cut unevenly: the allocation is per group, not one ratio.
    const ratios = new Set(report.groups.filter((x) => !x.declined).map((g) => g.removedRatio!.toFixed(2)));
    expect(ratios.size).toBeGreaterThan(1);
    const out = await runOrt(encodeModel(model), fixtureFeeds(name, bytes));
    expect(Object.values(out)[0]!.dims).toEqual([1, 10]);
  });

  it('a second run reads every width from the lookup table; an unreachable target says how close it got', async () => {
    const bytes = fixtureBytes('resnet18');
    const meter = new CostMeter(decodeModel(bytes));
    await centralityPrune(decodeModel(bytes), { scope: 'conv', targetLatency: 0.7, latencyMeter: meter, method: 'l1' });
    const built = meter.built;
    const again = await centralityPrune(decodeModel(bytes), { scope: 'conv', targetLatency: 0.7, latencyMeter: meter, method: 'l1' });
    expect(meter.built).toBe(built);
    expect(again.latencyTarget!.table.measured).toBe(0);
    expect(again.latencyTarget!.table.cached).toBeGreaterThan(0);
    // Floors of 60 channels on groups of 8–64: far from 0.05 of the latency.
    const far = await centralityPrune(decodeModel(bytes), { scope: 'conv', minChannels: 60, targetLatency: 0.05, latencyMeter: new CostMeter(decodeModel(bytes)), method: 'l1' });
    expect(far.latencyTarget!.met).toBe(false);
    expect(far.latencyTarget!.measured).toBeGreaterThan(0.3);
  });

  it('refuses --target-latency without a meter, or with another target', async () => {
    const bytes = fixtureBytes('mlp');
    await expect(centralityPrune(decodeModel(bytes), { targetLatency: 0.5 })).rejects.toThrow(/needs a latency meter/);
    const meter = new CostMeter(decodeModel(bytes));
    await expect(centralityPrune(decodeModel(bytes), { targetLatency: 0.5, targetMacs: 0.5, latencyMeter: meter })).rejects.toThrow(/one target/);
    await expect(centralityPrune(decodeModel(bytes), { targetLatency: 0.5, global: true, latencyMeter: meter })).rejects.toThrow(/--global/);
    await expect(centralityPrune(decodeModel(bytes), { targetLatency: 0, latencyMeter: meter })).rejects.toThrow(/\(0, 1\]/);
  });
});

/** The model with `units` units of group `id` kept: one of every set that must keep one, then the lowest indices. */
function pruneGroup(m: Model, id: number, units: number): Model {
  const g = analyze(m)[id]!;
  const keep = new Set<number>();
  for (const s of g.nonEmpty) if (!s.some((u) => keep.has(u))) keep.add(s[0]!);
  for (let u = 0; keep.size < units; u++) keep.add(u);
  return pruneChannels(m, new Map([[id, [...keep].sort((a, b) => a - b)]]));
}
