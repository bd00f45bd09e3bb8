/**
 * Calibration statistics and the activation-aware criteria against numpy / networkx (calib_reference.py), on the
 * small models of models.ts: the collector streams batches of a few samples through a model copy, the oracle gets
 * every sample's activations at once (dumped by onnxruntime from the tensors models.ts names) and recomputes the
 * per-position sums, per-unit mean / mean |a| / ‖a‖₂ / liveness, the Gram (units several positions wide included),
 * Wanda-sp and FLAP from the ONNX weights, and networkx's eigenvector centrality of the activation graph.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/ir/save.js';
import { ACTIVE_EPS, gramIndex } from '../../src/passes/calibrationStats.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { groupActivations } from '../../src/passes/groupActivations.js';
import { groupConsumers } from '../../src/passes/consumers.js';
import { scoreChannels } from '../../src/passes/scoring/index.js';
import { collectCalibration } from '../../src/runtime/calibration/index.js';
import { describeWith, ort, relativeError as relErr, tempDir } from '../support/index.js';
import { CALIB_ORACLES, dumpValues, oracle, saveTensor, writeSamples } from './helpers.js';
import { mlp, SMALL_MODELS } from './models.js';

const dir = tempDir('calib-stats');
const SAMPLES = 37;
const THRESHOLD = 0.2;

describeWith(CALIB_ORACLES, 'calibration statistics and criteria against numpy / networkx', () => {
  for (const make of SMALL_MODELS) {
    const m = make();
    it(`${m.name}`, async () => {
      const modelPath = join(dir, `${m.name}.onnx`);
      writeFileSync(modelPath, encodeModel(m.model));
      const { path, data } = writeSamples(dir, m.name, SAMPLES, m.sample, 3);
      const groups = analyze(m.model).filter((g) => g.prunable);
      expect(groups.length).toBeGreaterThan(0);
      // A tiny batch budget: several batches of a few samples, so the streaming sums cross batch boundaries.
      const result = await collectCalibration(m.model, groups, path, { samples: SAMPLES, gram: true, ep: 'cpu', batchBytes: 2048 });
      expect(result.samples).toBe(SAMPLES);
      const feeds = { [m.model.graph.inputs[0]!.name]: new ort.Tensor('float32', data, [SAMPLES, ...m.sample]) };
      for (const g of groups) {
        const sites = m.sites[g.producers[0]!.name]!;
        const dumped = await dumpValues(m.model, feeds, sites.map((s) => s.value));
        const consumers = groupConsumers(m.model, g);
        const siteIndex = (value: string) => sites.findIndex((s) => s.value === value);
        const spec = {
          units: g.channels, activeEps: ACTIVE_EPS, threshold: THRESHOLD,
          sites: sites.map((s, i) => ({
            file: saveTensor(join(dir, `${m.name}-${g.id}-${i}.npy`), dumped[s.value]!), axis: s.axis,
            unitOf: Array.from(consumers.find((c) => c.input.name === s.value)!.unitOf),
          })),
          consumers: consumers.map((c) => ({ model: modelPath, ...m.consumers[c.node.name]!, site: siteIndex(c.input.name) })),
        };
        const want = oracle(spec);
        const stats = result.stats.get(g.id)!;
        const label = `${m.name} group ${g.id}`;
        expect(stats.samples, label).toBe(SAMPLES);
        expect(stats.sites.map((s) => s.value).sort(), label).toEqual(sites.map((s) => s.value).sort());
        for (const [i, s] of sites.entries()) {
          const got = stats.sites.find((x) => x.value === s.value)!;
          expect(got.count, label).toBe(want.sites[i]!.count);
          expect(relErr(got.sum, want.sites[i]!.sum), `${label} sum`).toBeLessThan(1e-5);
          expect(relErr(got.sumAbs, want.sites[i]!.sumAbs), `${label} sum |a|`).toBeLessThan(1e-5);
          expect(relErr(got.sumSq, want.sites[i]!.sumSq), `${label} sum a²`).toBeLessThan(1e-5);
        }
        expect(relErr(stats.mean, want.mean), `${label} mean`).toBeLessThan(1e-5);
        expect(relErr(stats.meanAbs, want.meanAbs), `${label} mean |a|`).toBeLessThan(1e-5);
        expect(relErr(stats.l2, want.l2), `${label} l2`).toBeLessThan(1e-5);
        expect(Array.from(stats.activeFraction), `${label} active`).toEqual(want.activeFraction);
        const n = g.channels;
        const full = Array.from({ length: n * n }, (_, k) => stats.gram![gramIndex(n, Math.min(k % n, Math.floor(k / n)), Math.max(k % n, Math.floor(k / n)))]!);
        expect(relErr(full, want.gram.flat()), `${label} Gram`).toBeLessThan(1e-5);

        const activations = groupActivations(m.model, g, stats);
        const score = async (method: 'wanda' | 'flap' | 'activation-eigenvector') =>
          (await scoreChannels([{ rows: new Float32Array(n), n, d: 1 }], { method, threshold: THRESHOLD }, activations));
        expect(relErr((await score('wanda')).scores, want.wanda), `${label} wanda`).toBeLessThan(1e-5);
        expect(relErr((await score('flap')).scores, want.flap), `${label} flap`).toBeLessThan(1e-5);
        const eig = await score('activation-eigenvector');
        expect(eig.graph?.edges, `${label} edges`).toBe(want.edges);
        if (want.activationEigenvector) {
          expect(eig.method).toBe('activation-eigenvector');
          expect(relErr(eig.scores, want.activationEigenvector), `${label} activation eigenvector`).toBeLessThan(1e-4);
        }
      }
    });
  }
});

describe('calibrated criteria without an oracle', () => {
  it('a calibrated criterion without statistics for a group falls back to l2 and says why', async () => {
    const vectors = [{ rows: Float32Array.from([3, 0, 0, 1, 2, 2]), n: 3, d: 2 }];
    for (const method of ['wanda', 'flap', 'activation-eigenvector', 'live-eigenvector'] as const) {
      const s = await scoreChannels(vectors, { method, threshold: 0.2 });
      expect(s.method).toBe('l2');
      expect(s.fellBack).toBe('no calibration statistics for this group, scored by l2 instead');
    }
  });

  it('a model with a fixed batch size runs batches of that size, the last one padded: the same statistics', async () => {
    const { path } = writeSamples(dir, 'fixed', SAMPLES, [12], 6);
    const stats = async (batch: number | string) => {
      const m = mlp(batch);
      const g = analyze(m.model).find((x) => x.prunable)!;
      return (await collectCalibration(m.model, [g], path, { samples: SAMPLES, ep: 'cpu', gram: true })).stats.get(g.id)!;
    };
    const dynamic = await stats('N');
    const fixed = await stats(5); // 37 samples: 7 full batches and one of 2 padded to 5
    expect(fixed.samples).toBe(SAMPLES);
    expect(fixed.sites[0]!.count).toBe(dynamic.sites[0]!.count);
    expect(relErr(fixed.sites[0]!.sum, dynamic.sites[0]!.sum)).toBeLessThan(1e-6);
    expect(relErr(fixed.sites[0]!.sumSq, dynamic.sites[0]!.sumSq)).toBeLessThan(1e-6);
    expect(relErr(fixed.gram!, dynamic.gram!)).toBeLessThan(1e-6);
    expect(Array.from(fixed.activeFraction)).toEqual(Array.from(dynamic.activeFraction));
  });

  it('live-eigenvector removes the units that never fire first, and ranks the live ones as eigenvector does', async () => {
    const m = SMALL_MODELS[0]!();
    const { path } = writeSamples(dir, 'live', SAMPLES, m.sample, 4);
    const g = analyze(m.model).find((x) => x.prunable)!;
    const stats = (await collectCalibration(m.model, [g], path, { samples: SAMPLES, ep: 'cpu' })).stats.get(g.id)!;
    // mlp's first four units have a bias of −50: dead on every sample; the others fire on some.
    expect(Array.from(stats.activeFraction.slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(stats.activeFraction.slice(4).every((f) => f > 0)).toBe(true);
    const rows = new Float32Array(16 * 12).map((_, i) => Math.sin(i * 1.7));
    const vectors = [{ rows, n: 16, d: 12 }];
    const weightOnly = await scoreChannels(vectors, { method: 'eigenvector', threshold: 0.05 });
    const live = await scoreChannels(vectors, { method: 'live-eigenvector', threshold: 0.05 }, groupActivations(m.model, g, stats));
    const order = (s: Float64Array) => Array.from(s.keys()).sort((a, b) => s[a]! - s[b]!);
    expect(order(live.scores).slice(0, 4).sort()).toEqual([0, 1, 2, 3]);
    expect(order(live.scores).slice(4)).toEqual(order(weightOnly.scores).filter((u) => u >= 4));
    expect(live.note).toMatch(/4 of 16 units never active on 37 calibration samples/);
  });
});
