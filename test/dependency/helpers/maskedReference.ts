/**
 * The independent oracle of the pruning rewrite: a MASKED ORIGINAL. It never looks at the engine's analysis; it is
 * told only which output channels of which producers are removed, and finds by itself, with onnxruntime, where those
 * channels arrive:
 *
 *  1. Every "mixing" node — a weight layer (Conv/ConvTranspose with group 1, Gemm, MatMul with a constant operand)
 *     or a LayerNorm statistic over the last axis (LayerNormalization; in the decomposed form, the ReduceMean whose
 *     result is subtracted from its input, and the one averaging the squared difference) —
 *     is cut out of a tracing copy of the model: its outputs become inputs fed with their values from a normal run,
 *     so a change can only travel through per-position ops (activations, BN, pooling, residual Adds, Concat,
 *     reshapes, attention products, depthwise convs). LayerNormalization becomes Identity there.
 *  2. The removed producer channels are perturbed (large random changes); every position along the input-channel
 *     axis of a mixing node that changes is a position fed by removed channels.
 *  3. The masked original zeroes the weights reading those positions (so their activations no longer matter), and
 *     takes LayerNorm statistics over the remaining positions only (masked sums over the kept count).
 *
 * Removing channels is then exactly equivalent to this masked model, for every rule: the pruned model must match
 * it within float rounding.
 *
 * Blind spot: a removed channel whose value at a weight layer does not depend on the producer at all (GAP of a
 * softmax over W is 1/W whatever the input) is invisible to the tracing, so its weights stay unmasked and the check
 * fails loudly; test graphs avoid such degenerate constructions.
 */
import * as ort from 'onnxruntime-node';
import { constantFloat32, constantSource } from '../../../src/ir/constants.js';
import { DataType } from '../../../src/ir/dtype.js';
import type { Graph } from '../../../src/ir/graph.js';
import { decodeModel } from '../../../src/ir/load.js';
import type { Model } from '../../../src/ir/model.js';
import type { Node } from '../../../src/ir/node.js';
import { encodeModel } from '../../../src/ir/save.js';
import { inferShapes } from '../../../src/ir/shapeInference.js';
import { Tensor } from '../../../src/ir/tensor.js';
import type { Value } from '../../../src/ir/value.js';
import { floats, Rng, runOrt, type Feeds } from '../../support/index.js';

/** Output channels removed from one producer: its output value, the channel axis, the removed indices. */
export interface Removal {
  readonly output: string;
  readonly axis: number;
  readonly channels: readonly number[];
}

type Mixing =
  | { kind: 'weight'; data: number; axis: number; weight: number; weightAxis: number }
  | { kind: 'layerNorm' | 'mean' };

/** How a node mixes channels, by the test's own simple reading of the op. */
function mixingOf(n: Node): Mixing | undefined {
  const isConst = (v: Value | undefined) => !!v && !!constantSource(v);
  switch (n.opType) {
    case 'Conv': case 'ConvTranspose':
      if (n.getInt('group', 1) !== 1 || !isConst(n.input(1))) return undefined;
      return { kind: 'weight', data: 0, axis: 1, weight: 1, weightAxis: n.opType === 'Conv' ? 1 : 0 };
    case 'Gemm':
      if (!isConst(n.input(1))) return undefined;
      return { kind: 'weight', data: 0, axis: n.getInt('transA', 0) ? 0 : 1, weight: 1, weightAxis: n.getInt('transB', 0) ? 1 : 0 };
    case 'MatMul':
      if (isConst(n.input(1))) return { kind: 'weight', data: 0, axis: -1, weight: 1, weightAxis: -2 };
      if (isConst(n.input(0))) return { kind: 'weight', data: 1, axis: -2, weight: 0, weightAxis: -1 };
      return undefined;
    case 'LayerNormalization':
      if (n.getInt('axis', -1) !== -1) throw new Error('oracle: LayerNormalization over more than the last axis');
      return { kind: 'layerNorm' };
    case 'ReduceMean': {
      const axes = n.getInts('axes') ?? (n.input(1) ? constantSource(n.input(1))?.tensor.toNumbers() : undefined);
      const rank = n.input(0)?.shape?.length;
      const last = axes?.length === 1 && (axes[0] === -1 || axes[0] === (rank ?? 0) - 1);
      return last && n.getInt('keepdims', 1) === 1 && isNormStatistic(n) ? { kind: 'mean' } : undefined;
    }
    default:
      return undefined;
  }
}

/** A LayerNorm mean (some Sub(x, mean) reads it) or variance (it averages Pow(x − mean, 2) or (x − mean)²). */
function isNormStatistic(n: Node): boolean {
  const x = n.input(0)!;
  if (n.output(0).uses().some((u) => u.node.opType === 'Sub' && u.node.input(0) === x)) return true;
  const sq = x.producer();
  const centred = sq?.input(0)?.producer();
  return !!sq && (sq.opType === 'Pow' || (sq.opType === 'Mul' && sq.input(1) === sq.input(0))) && centred?.opType === 'Sub';
}

function load(bytes: Uint8Array): Model {
  const m = decodeModel(bytes);
  inferShapes(m);
  return m;
}

/** Appends `Identity(v)` as a new graph output named `name` (outputs may not alias inputs in onnxruntime). */
function expose(g: Graph, v: Value, name: string): void {
  const id = g.addNode('Identity', [v], [name]);
  id.output(0).elemType = v.elemType;
  g.outputs.push(id.output(0));
}

/** Builds the masked original (as bytes) for these removals, on these inputs. */
export async function maskedReference(bytes: Uint8Array, removals: readonly Removal[], feeds: Feeds): Promise<Uint8Array> {
  const base = load(bytes);
  const mixing = base.graph.nodes.map(mixingOf);
  const removedBy = new Map(removals.map((r) => [r.output, r]));
  const producerIndex = base.graph.nodes.map((n) => n.outputs.some((o) => o && removedBy.has(o.name)));
  const frozen = base.graph.nodes.map((n, i) => producerIndex[i]! || (mixing[i] !== undefined && mixing[i]!.kind !== 'layerNorm'));

  // 1. A normal run exposing every frozen output and every mixing input.
  const probe = load(bytes);
  const dataOf = (i: number) => { const m = mixing[i]!; return m.kind === 'weight' ? m.data : 0; };
  probe.graph.nodes.slice().forEach((n, i) => {
    if (frozen[i]) n.outputs.forEach((o, k) => { if (o) expose(probe.graph, o, `frozen_${i}_${k}`); });
    if (mixing[i]) expose(probe.graph, n.input(dataOf(i))!, `mixin_${i}`);
  });
  const values = await runOrt(encodeModel(probe), feeds);

  // 2. The tracing model: frozen nodes cut out, LayerNorm as Identity, mixing inputs (and graph outputs) exposed.
  const trace = load(bytes);
  const g = trace.graph;
  const originalOutputs = [...g.outputs];
  g.outputs = [];
  const nodes = g.nodes.slice();
  nodes.forEach((n, i) => { if (mixing[i]) expose(g, n.input(dataOf(i))!, `mixin_${i}`); });
  originalOutputs.forEach((v, k) => expose(g, v, `graphout_${k}`));
  const cut: { name: string; key: string }[] = [];
  nodes.forEach((n, i) => {
    if (mixing[i]?.kind === 'layerNorm') {
      n.opType = 'Identity';
      n.attributes = [];
      n.setInputs([n.input(0)!]);
      n.setOutputs([n.output(0)]);
    } else if (frozen[i]) {
      const outs = n.outputs.filter((o): o is Value => !!o);
      n.setOutputs(outs.map((o) => g.value(g.freshName(`${o.name}__cut`))));
      g.removeNodes([n]);
      outs.forEach((o, k) => {
        o.shape = values[`frozen_${i}_${k}`]!.dims as number[];
        g.inputs.push(o);
        cut.push({ name: o.name, key: `frozen_${i}_${k}` });
      });
    }
  });
  const traceBytes = encodeModel(trace);
  const frozenFeeds = (perturb: number | undefined): Feeds => {
    const f: Feeds = { ...feeds };
    for (const { name, key } of cut) {
      const t = values[key]!;
      const r = removedBy.get(name);
      f[name] = perturb === undefined || !r ? t : perturbed(t, r, perturb);
    }
    return f;
  };
  const calm = await runOrt(traceBytes, frozenFeeds(undefined));
  const changed = new Map<number, Set<number>>();
  // All-positive and all-negative pushes get through any ReLU / clip on one side; two random ones for the rest.
  for (const seed of [1, -1, 11, 23]) {
    const moved = await runOrt(traceBytes, frozenFeeds(seed));
    originalOutputs.forEach((_, k) => {
      const a = floats(calm[`graphout_${k}`]!);
      const b = floats(moved[`graphout_${k}`]!);
      if (a.some((x, j) => !Object.is(x, b[j]))) throw new Error(`oracle: removed channels reach graph output ${k} without passing a weight layer`);
    });
    mixing.forEach((m, i) => {
      if (!m) return;
      const axis = m.kind === 'weight' ? m.axis : -1;
      for (const p of changedPositions(calm[`mixin_${i}`]!, moved[`mixin_${i}`]!, axis)) {
        (changed.get(i) ?? changed.set(i, new Set()).get(i)!).add(p);
      }
    });
  }

  // 3. The masked original.
  const masked = load(bytes);
  const mnodes = masked.graph.nodes.slice();
  for (const [i, positions] of changed) {
    const n = mnodes[i]!;
    const m = mixing[i]!;
    const width = values[`mixin_${i}`]!.dims;
    const len = width[(m.kind === 'weight' ? (m.axis < 0 ? width.length + m.axis : m.axis) : width.length - 1)]!;
    if (m.kind === 'weight') zeroWeight(masked.graph, n, m.weight, m.weightAxis, positions);
    else maskStatistic(masked, n, m.kind, positions, len);
  }
  return encodeModel(masked);
}

/** The frozen value with large random changes on the removed channels. */
function perturbed(t: ort.Tensor, r: Removal, seed: number): ort.Tensor {
  const dims = t.dims as number[];
  const axis = r.axis < 0 ? dims.length + r.axis : r.axis;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const width = dims[axis]!;
  const x = floats(t).slice();
  const removed = new Set(r.channels);
  const rand = new Rng(seed);
  for (let e = 0; e < x.length; e++) {
    if (!removed.has(Math.floor(e / inner) % width)) continue;
    const s = seed === 1 || seed === -1 ? seed : rand.next() < 0.5 ? -1 : 1;
    x[e] = x[e]! + s * (Math.abs(x[e]!) + 1) * (2 + 3 * rand.next());
  }
  return new ort.Tensor('float32', x, dims);
}

/** Positions along `axis` where any element differs. */
function changedPositions(a: ort.Tensor, b: ort.Tensor, axis: number): number[] {
  const dims = a.dims as number[];
  const ax = axis < 0 ? dims.length + axis : axis;
  const inner = dims.slice(ax + 1).reduce((p, d) => p * d, 1);
  const width = dims[ax]!;
  const x = floats(a);
  const y = floats(b);
  const hit = new Set<number>();
  for (let e = 0; e < x.length; e++) if (!Object.is(x[e], y[e])) hit.add(Math.floor(e / inner) % width);
  return [...hit];
}

/** A copy of the weight with the slices along `axis` at `positions` zeroed, in the operand's element type. */
function zeroWeight(g: Graph, n: Node, input: number, axis: number, positions: Set<number>): void {
  const v = n.input(input)!;
  const { dims, data } = constantFloat32(v)!;
  const ax = axis < 0 ? dims.length + axis : axis;
  const inner = dims.slice(ax + 1).reduce((p, d) => p * d, 1);
  const width = dims[ax]!;
  const out = data.slice();
  for (let e = 0; e < out.length; e++) if (positions.has(Math.floor(e / inner) % width)) out[e] = 0;
  const type = v.elemType ?? DataType.FLOAT;
  n.setInput(input, g.addInitializer(Tensor.fromFloat32(g.freshName(`${v.name}_masked`), dims, out, type)));
}

/**
 * Statistics over the last axis taken over the kept positions only: ReduceMean(x) → ReduceSum(x·m)/k, and
 * LayerNormalization rebuilt from those masked moments.
 */
function maskStatistic(model: Model, n: Node, kind: 'layerNorm' | 'mean', positions: Set<number>, len: number): void {
  const g = model.graph;
  const k = len - positions.size;
  const maskData = Float32Array.from({ length: len }, (_, p) => (positions.has(p) ? 0 : 1));
  const mask = g.addInitializer(Tensor.fromFloat32(g.freshName('oracle_mask'), [len], maskData));
  const count = g.addInitializer(Tensor.fromFloat32(g.freshName('oracle_count'), [], Float32Array.of(k)));
  const op = (type: string, inputs: Value[], attrs: [string, number[]][] = []) => {
    const node = g.addNode(type, inputs, [g.freshName(`oracle_${type}`)], { before: n });
    for (const [a, v] of attrs) node.setAttr(a, v);
    return node.output(0);
  };
  // Sum over the kept positions / their count. ReduceSum takes its axes as an input from opset 13.
  const axesInput = model.opsetVersion >= 13 ? [g.addInitializer(Tensor.fromInt64(g.freshName('oracle_axes'), [1], [-1]))] : [];
  const axesAttr: [string, number[]][] = model.opsetVersion >= 13 ? [] : [['axes', [-1]]];
  const maskedMean = (x: Value) => op('Div', [op('ReduceSum', [op('Mul', [x, mask]), ...axesInput], axesAttr), count]);
  const x = n.input(0)!;
  // The normalized input with removed positions zeroed: their values never matter, but left alone they are scaled by
  // 1/std of the kept features at every LayerNorm and overflow (then Inf · 0 weights = NaN) when few features stay.
  const xm = op('Mul', [x, mask]);
  if (kind === 'mean') {
    for (const u of n.output(0).uses()) if (u.node.opType === 'Sub' && u.node.input(0) === x) u.node.setInput(0, xm);
    g.replaceAllUsesWith(n.output(0), maskedMean(x), true);
    return;
  }
  const eps = g.addInitializer(Tensor.fromFloat32(g.freshName('oracle_eps'), [], Float32Array.of(n.getFloat('epsilon', 1e-5))));
  const d = op('Sub', [xm, maskedMean(x)]);
  const std = op('Sqrt', [op('Add', [maskedMean(op('Mul', [d, d])), eps])]);
  let y = op('Mul', [op('Div', [d, std]), n.input(1)!]);
  if (n.input(2)) y = op('Add', [y, n.input(2)!]);
  g.replaceAllUsesWith(n.output(0), y, true);
}
