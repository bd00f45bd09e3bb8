/**
 * Bias compensation against two independent references, on the small models of models.ts (Gemm with α, β and a
 * broadcast C; Conv with asymmetric padding and stride; MatMul over tokens after SwiGLU; a residual group read by a
 * Gemm and a MatMul through different tensors; a conv channel flattened into a Gemm):
 *  - numpy (calib_reference.py): the correction of every consumer, Σ E[x_k]·W_k over the removed input positions, for
 *    a Conv the full convolution of the removed channels' mean map (zero padding) averaged over output positions;
 *  - behaviour in onnxruntime: each consumer's output, averaged over the calibration samples (and positions), is the
 *    original's after compensation, and is not without it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { constantFloat32 } from '../../src/ir/constants.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { centralityPrune, groupsInScope } from '../../src/passes/centralityPrune.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { groupConsumers } from '../../src/passes/consumers.js';
import { collectCalibration } from '../../src/runtime/calibration/index.js';
import { decoderFixture, fixtureBytes as decoderBytes, tokens } from '../decoders/helpers.js';
import { alsoWith, floats, onnxCheck, ort, relativeError as relErr, tempDir, writeNpy, type Feeds } from '../support/index.js';
import { CALIB_ORACLES, dumpValues, oracle, saveTensor, writeSamples } from './helpers.js';
import { SMALL_MODELS } from './models.js';

const dir = tempDir('calib-comp');
const SAMPLES = 29;

/** Per output channel: the mean over samples and every other axis (channels on axis 1, or the last axis). */
function channelMeans(t: ort.Tensor, axis: number): number[] {
  const dims = t.dims as number[];
  const k = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const sums = new Array<number>(k).fill(0);
  const data = floats(t);
  for (let i = 0; i < data.length; i++) sums[Math.floor(i / inner) % k] += data[i]!;
  return sums.map((s) => (s * k) / data.length);
}

/** The bias a consumer adds after pruning: Gemm/Conv input 2 (broadcast), or the constant of the Add after a MatMul. */
function appliedBias(model: Model, node: string, outputs: number): Float32Array {
  const n = model.graph.nodes.find((x) => x.name === node)!;
  if (n.opType === 'MatMul') {
    const add = n.output(0).uses().find((u) => u.node.opType === 'Add');
    return add ? constantFloat32(add.node.input(1))!.data : new Float32Array(outputs);
  }
  const c = constantFloat32(n.input(2));
  if (!c) return new Float32Array(outputs);
  return c.data.length === outputs ? c.data : Float32Array.from({ length: outputs }, () => c.data[0]!);
}

describe('bias compensation', () => {
  for (const make of SMALL_MODELS) {
    const m = make();
    it(`${m.name}: consumer means are kept in onnxruntime, corrections equal numpy's`, async () => {
      const originalPath = join(dir, `${m.name}.onnx`);
      writeFileSync(originalPath, encodeModel(m.model));
      const { path, data } = writeSamples(dir, `${m.name}-comp`, SAMPLES, m.sample, 9);
      const groups = analyze(m.model).filter((g) => g.prunable);
      const { stats } = await collectCalibration(m.model, groups, path, { samples: SAMPLES, ep: 'cpu', batchBytes: 4096 });
      const feeds = { [m.model.graph.inputs[0]!.name]: new ort.Tensor('float32', data, [SAMPLES, ...m.sample]) };

      const pruned = (compensate: boolean) => {
        const copy = decodeModel(encodeModel(m.model));
        return centralityPrune(copy, { method: 'random', ratio: 0.5, scope: 'all', pruneResidual: true, calibration: stats, compensate, seed: 3 }).then((report) => ({ copy, report }));
      };
      const on = await pruned(true);
      const off = await pruned(false);
      const onPath = join(dir, `${m.name}-compensated.onnx`);
      writeFileSync(onPath, encodeModel(on.copy));
      alsoWith(['onnx'], () => expect(onnxCheck([onPath], { full: true })).toEqual([null]));

      const before = await dumpValues(m.model, feeds, m.probes);
      const after = await dumpValues(on.copy, feeds, m.probes);
      const plain = await dumpValues(off.copy, feeds, m.probes);
      for (const probe of m.probes) {
        const axis = m.model.graph.find(probe)!.shape!.length === 4 ? 1 : before[probe]!.dims.length - 1;
        const want = channelMeans(before[probe]!, axis);
        expect(relErr(channelMeans(after[probe]!, axis), want), `${probe}: mean kept`).toBeLessThan(1e-4);
        expect(relErr(channelMeans(plain[probe]!, axis), want), `${probe}: uncompensated means move`).toBeGreaterThan(1e-3);
      }

      for (const g of groups) {
        const removed = on.report.groups[g.id]!.removed;
        expect(removed.length).toBeGreaterThan(0);
        expect(on.report.groups[g.id]!.compensation).toEqual({ consumers: groupConsumers(m.model, g).length });
        await alsoWith(CALIB_ORACLES, async () => {
          const sites = m.sites[g.producers[0]!.name]!;
          const dumped = await dumpValues(m.model, feeds, sites.map((s) => s.value));
          const consumers = groupConsumers(m.model, g);
          const want = oracle({
            units: g.channels, activeEps: 1e-6, threshold: 0.2, removed, eigenvector: false,
            sites: sites.map((s, i) => ({
              file: saveTensor(join(dir, `${m.name}-comp-${g.id}-${i}.npy`), dumped[s.value]!), axis: s.axis,
              unitOf: Array.from(consumers.find((c) => c.input.name === s.value)!.unitOf),
            })),
            consumers: consumers.map((c) => ({
              model: originalPath, ...m.consumers[c.node.name]!, site: sites.findIndex((s) => s.value === c.input.name),
              alpha: c.node.getFloat('alpha', 1),
              ...(c.node.opType === 'Conv' ? { conv: { pads: c.node.getInts('pads'), strides: c.node.getInts('strides') ?? [1, 1], dilations: c.node.getInts('dilations') ?? [1, 1] } } : {}),
            })),
          });
          consumers.forEach((c, i) => {
            const delta = want.deltas[i]!;
            const beta = c.node.opType === 'Gemm' ? c.node.getFloat('beta', 1)! : 1;
            const was = appliedBias(m.model, c.node.name, delta.length);
            const now = appliedBias(on.copy, c.node.name, delta.length);
            const change = Array.from(now, (v, o) => (v - was[o]!) * beta);
            expect(relErr(change, delta), `${m.name} ${c.node.name}: correction`).toBeLessThan(1e-4);
          });
        });
      }
    });
  }
});

describe('bias compensation on a decoder with a KV cache', () => {
  // Every layer loses one of its two KV groups (uniform heads); the first layer's output projection reads nothing the
  // other layers' pruning changed, so its mean over the calibration windows is kept exactly. Later layers read a
  // residual stream that pruning changed: the correction, made from the original's statistics, is approximate there.
  it('whole KV groups removed in every layer: the first output projection keeps its mean over the calibration windows', async () => {
    const f = decoderFixture('llama_cache');
    const model = decodeModel(decoderBytes(f));
    const rows = tokens(f, 6, 20, 4);
    const ids = join(dir, 'llama-ids.npy');
    writeNpy(ids, BigInt64Array.from(rows.flat(), BigInt), [6, 20]);
    const selection = { layers: ['*q_proj*'] };
    const heads = groupsInScope(model, selection);
    expect(heads).toHaveLength(f.config.layers);
    const { stats } = await collectCalibration(model, heads, ids, { samples: 6, ep: 'cpu' });
    const pruned = async (compensate: boolean) => {
      const copy = decodeModel(encodeModel(model));
      const report = await centralityPrune(copy, { ...selection, method: 'wanda', ratio: 0.5, calibration: stats, compensate });
      return { copy, report };
    };
    const on = await pruned(true);
    const off = await pruned(false);
    expect(on.report.decoder).toMatchObject({ uniformHeads: true, sizes: { numKeyValueHeads: { before: 2, after: 1 } } });
    for (const g of heads) expect(on.report.groups[g.id]!.compensation).toEqual({ consumers: 1 });

    const probes = ['/layers.0/self_attn/o_proj/MatMul_output_0'];
    const before = await dumpValues(model, windowFeeds(model, rows), probes);
    const after = await dumpValues(on.copy, windowFeeds(on.copy, rows), probes);
    const plain = await dumpValues(off.copy, windowFeeds(off.copy, rows), probes);
    for (const probe of probes) {
      const want = channelMeans(before[probe]!, 2);
      expect(relErr(channelMeans(after[probe]!, 2), want), `${probe}: mean kept`).toBeLessThan(1e-4);
      expect(relErr(channelMeans(plain[probe]!, 2), want), `${probe}: uncompensated means move`).toBeGreaterThan(1e-3);
    }
    alsoWith(['onnx'], () => expect(onnxCheck([encodeModel(on.copy)], { full: true })).toEqual([null]));
  });
});

/** Each window as one first step: the ids, a mask of ones, positions 0…T−1, an empty cache of the declared shape. */
function windowFeeds(model: Model, rows: number[][]): Feeds {
  const [n, t] = [rows.length, rows[0]!.length];
  const int64 = (value: (r: number, j: number) => number) =>
    new ort.Tensor('int64', BigInt64Array.from({ length: n * t }, (_, k) => BigInt(value(Math.floor(k / t), k % t))), [n, t]);
  const feeds: Feeds = {};
  for (const v of model.graph.inputs) {
    if (v.name === 'input_ids') feeds[v.name] = int64((r, j) => rows[r]![j]!);
    else if (v.name === 'attention_mask') feeds[v.name] = int64(() => 1);
    else if (v.name === 'position_ids') feeds[v.name] = int64((_, j) => j);
    else if (v.name.startsWith('past_key_values.')) feeds[v.name] = new ort.Tensor('float32', new Float32Array(0), [n, v.shape![1] as number, 0, v.shape![3] as number]);
    else throw new Error(`windowFeeds: no feed for input '${v.name}'`);
  }
  return feeds;
}
