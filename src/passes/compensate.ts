import { constantSource } from '../ir/constants.js';
import { DataType } from '../ir/dtype.js';
import { UserError } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { inferShapes } from '../ir/shapeInference.js';
import { validateModel } from '../ir/validateGraph.js';
import { Tensor } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import type { CalibrationStats, SiteStats } from './calibrationStats.js';
import { consumersOf, forEachWeight } from './consumers.js';
import { analysis } from './dependency/analyze.js';

/**
 * Bias compensation (FLAP, An et al. 2024, §3.3 "baseline bias compensation"): a removed unit stops feeding its
 * consumers, and what it fed on average is put back as a constant. For consumer y = W·x (+ b) and removed input
 * positions R: b′ = b + Σ_{k∈R} E[x_k]·W[:, k], with E[x_k] the mean of input position k over the calibration data
 * (samples × tokens / pixels). Pruning without retraining then keeps the consumers' mean output.
 *
 * Per consumer kind:
 * - Gemm (Y = α·A·B + β·C): C += α·Σ E[x_k]·B_k / β; C is created when absent (a β of 0 ignores C: an Add is
 *   inserted instead);
 * - MatMul with a constant weight: an Add of the correction after it (MatMul has no bias);
 * - Conv: bias[o] += Σ_k Σ_taps W[o, k, tap]·A[k, tap], A[k, tap] the input's mean (over samples) at the position the
 *   tap reads, averaged over output positions, 0 where the tap reads padding (`convCorrection`): the expected removed
 *   contribution averaged over samples and positions. A constant cannot follow its variation across positions (near
 *   a padded border the tap reads zeros, in the middle the mean), so per position it is exact only on average.
 * Residual groups have several consumers: each gets its own correction from its own input's means.
 */

/** The correction of one consumer over its original output features, and the classes of those features. */
interface NodeCorrection {
  readonly node: Node;
  readonly delta: Float64Array;
  readonly outputClasses: Int32Array;
}

export interface CompensationPlan {
  readonly corrections: NodeCorrection[];
  /** Whether each class of the analysed model survives the pruning (1) or not (0). */
  readonly keptClass: Uint8Array;
  /** Per group id: consumers corrected, and why any were left out. */
  readonly groups: Map<number, { consumers: number; note?: string }>;
}

/**
 * Computes every consumer's correction for the removed units, on the model BEFORE `pruneChannels` (it reads the
 * consumers' full weights). `keep`: kept units per group id; `stats`: calibration per group id.
 */
export function planCompensation(model: Model, keep: ReadonlyMap<number, readonly number[]>, stats: ReadonlyMap<number, CalibrationStats>): CompensationPlan {
  const a = analysis(model);
  const byNode = new Map<Node, NodeCorrection>();
  const groups = new Map<number, { consumers: number; note?: string }>();
  const keptClass = new Uint8Array(a.classCount).fill(1);
  for (const [id, kept] of keep) {
    const units = new Set(kept);
    a.groups[id]!.unitClasses.forEach((cls, u) => { keptClass[cls] = units.has(u) ? 1 : 0; });
  }
  for (const [id, kept] of keep) {
    const group = a.groups[id]!;
    const s = stats.get(id);
    if (!s) {
      groups.set(id, { consumers: 0, note: 'no calibration statistics for this group' });
      continue;
    }
    const removed = new Uint8Array(group.channels).fill(1);
    for (const u of kept) removed[u] = 0;
    const skipped: string[] = [];
    let done = 0;
    for (const c of consumersOf(a, group)) {
      const site = s.sites.find((x) => x.value === c.input.name && x.axis === c.axis);
      const why = !site ? `no statistics for its input '${c.input.name}'` : !c.tensor ? 'its weight is not a stored constant' : biasRefusal(c.node);
      if (why) {
        skipped.push(`${c.node.label} (${why})`);
        continue;
      }
      const outputs = c.outputClasses.length;
      let corr = byNode.get(c.node);
      if (!corr) byNode.set(c.node, (corr = { node: c.node, delta: new Float64Array(outputs), outputClasses: c.outputClasses }));
      if (c.node.opType === 'Conv' && site!.map) convCorrection(c.node, c.tensor!, site!.map, c.unitOf, removed, corr.delta);
      else {
        const mean = Float64Array.from(site!.sum, (x) => x / site!.count);
        const scale = c.node.opType === 'Gemm' ? c.node.getFloat('alpha', 1)! : 1;
        const delta = corr.delta;
        forEachWeight(c.tensor!, c.weight.axis, c.weight.outAxis, (k, o, w) => {
          const u = c.unitOf[k]!;
          if (u >= 0 && removed[u]) delta[o] += scale * mean[k]! * w;
        });
      }
      done++;
    }
    groups.set(id, { consumers: done, ...(skipped.length ? { note: `not compensated: ${skipped.join(', ')}` } : {}) });
  }
  return { corrections: [...byNode.values()], keptClass, groups };
}

/**
 * A Conv's correction: delta[o] = Σ_{removed c} Σ_taps W[o, c, tap] · A[c, tap], where A[c, tap] is the mean over
 * output positions of the input's mean map (over samples) at the position the tap reads, 0 where it reads padding.
 * This is the removed channels' expected contribution averaged over samples and output positions: the best one
 * constant can do (a bias cannot vary by position, so near a padded border the output still shifts a little).
 */
function convCorrection(node: Node, weight: Tensor, map: NonNullable<SiteStats['map']>, unitOf: Int32Array, removed: Uint8Array, delta: Float64Array): void {
  const [outs, perGroup, ...kernel] = weight.dims as [number, number, ...number[]];
  const inSize = map.dims.slice(1) as number[];
  const rank = kernel.length;
  if (inSize.length !== rank || node.getInt('group', 1) !== 1 || perGroup !== map.dims[0]) throw new Error(`internal: Conv ${node.label} and its input map disagree`);
  const strides = node.getInts('strides') ?? new Array<number>(rank).fill(1);
  const dilations = node.getInts('dilations') ?? new Array<number>(rank).fill(1);
  const { begin, outSize } = convGeometry(node, inSize, kernel, strides, dilations);
  const taps = kernel.reduce((p, k) => p * k, 1);
  const outPositions = outSize.reduce((p, k) => p * k, 1);
  const plane = inSize.reduce((p, k) => p * k, 1);
  const w = weight.toFloat32();
  const tap = new Array<number>(rank);
  const out = new Array<number>(rank);
  for (let c = 0; c < perGroup; c++) {
    const u = unitOf[c]!;
    if (u < 0 || !removed[u]) continue;
    const mean = (f: number): number => map.sum[c * plane + f]! / map.samples;
    for (let t = 0; t < taps; t++) {
      decode(t, kernel, tap);
      let acc = 0;
      for (let q = 0; q < outPositions; q++) {
        decode(q, outSize, out);
        let f = 0;
        let inside = true;
        for (let d = 0; d < rank && inside; d++) {
          const i = out[d]! * strides[d]! - begin[d]! + tap[d]! * dilations[d]!;
          inside = i >= 0 && i < inSize[d]!;
          f = f * inSize[d]! + i;
        }
        if (inside) acc += mean(f);
      }
      const a = acc / outPositions;
      for (let o = 0; o < outs; o++) delta[o] += a * w[(o * perGroup + c) * taps + t]!;
    }
  }
}

/** Row-major multi-index of flat index `f` over `dims`, into `into`. */
function decode(f: number, dims: readonly number[], into: number[]): void {
  for (let d = dims.length - 1; d >= 0; d--) {
    into[d] = f % dims[d]!;
    f = Math.floor(f / dims[d]!);
  }
}

/** Leading pads and output sizes of a Conv (explicit pads or auto_pad SAME_UPPER / SAME_LOWER / VALID). */
function convGeometry(node: Node, inSize: number[], kernel: number[], strides: number[], dilations: number[]): { begin: number[]; outSize: number[] } {
  const rank = kernel.length;
  const autoPad = node.getString('auto_pad', 'NOTSET');
  const span = kernel.map((k, d) => (k - 1) * dilations[d]! + 1);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const outSize = inSize.map((s, d) => Math.ceil(s / strides[d]!));
    const begin = outSize.map((o, d) => {
      const total = Math.max(0, (o - 1) * strides[d]! + span[d]! - inSize[d]!);
      return autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    });
    return { begin, outSize };
  }
  const pads = autoPad === 'VALID' ? new Array<number>(2 * rank).fill(0) : node.getInts('pads') ?? new Array<number>(2 * rank).fill(0);
  const outSize = inSize.map((s, d) => Math.floor((s + pads[d]! + pads[d + rank]! - span[d]!) / strides[d]!) + 1);
  return { begin: pads.slice(0, rank), outSize };
}

/** Why a consumer's output cannot take a bias correction, if it cannot. */
function biasRefusal(node: Node): string | undefined {
  switch (node.opType) {
    case 'Gemm': case 'MatMul': case 'Conv': return undefined;
    default: return `${node.opType} takes no bias correction`;
  }
}

/**
 * Adds the planned corrections to the pruned model (AFTER `pruneChannels`, which keeps the consumer nodes): each
 * correction is restricted to the consumer's output features that survived and added to its bias.
 */
export function applyCompensation(model: Model, plan: CompensationPlan): void {
  let changed = false;
  for (const { node, delta, outputClasses } of plan.corrections) {
    const kept = Float32Array.from(Array.from(delta).filter((_, j) => plan.keptClass[outputClasses[j]!] === 1));
    if (kept.every((x) => x === 0)) continue;
    addBias(model, node, kept);
    changed = true;
  }
  if (changed) checkAsLoaded(model);
}

/**
 * The safety net, as after pruneChannels: the new biases and Adds must pass what loading the written model checks
 * (signatures, then shapes against what the nodes compute). A failure is our bug, not the user's input.
 */
function checkAsLoaded(model: Model): void {
  try {
    validateModel(model);
    inferShapes(model);
  } catch (e) {
    if (e instanceof UserError) throw new Error(`internal: the compensated model is inconsistent: ${e.message}`);
    throw e;
  }
}

function addBias(model: Model, node: Node, delta: Float32Array): void {
  const y = node.output(0);
  const type = y.elemType ?? DataType.FLOAT;
  const n = delta.length;
  const outAxis = node.opType === 'Conv' ? 1 : (y.shape?.length ?? 1) - 1;
  const width = y.shape?.[outAxis];
  if (typeof width === 'number' && width !== n) throw new Error(`internal: compensation of ${node.label} has ${n} values for ${width} outputs`);
  const graph = model.graph;
  const biasName = graph.freshName(`${node.name || y.name}.compensated_bias`);
  if (node.opType === 'Conv' || node.opType === 'Gemm') {
    const beta = node.opType === 'Gemm' ? node.getFloat('beta', 1)! : 1;
    const old = node.input(2);
    const src = old ? constantSource(old) : undefined;
    if (beta !== 0 && (!old || src)) {
      const values = old ? broadcastBias(src!.tensor, n) : { data: new Float32Array(n), dims: [n] };
      for (let i = 0; i < values.data.length; i++) values.data[i] += delta[i % n]! / beta;
      node.setInput(2, graph.addInitializer(Tensor.fromFloat32(biasName, values.dims, values.data, type)));
      if (old) dropIfUnused(model, old);
      return;
    }
  }
  // No bias to fold into (MatMul, a computed or ignored C): y = node(...) + delta, under y's name.
  const raw = graph.value(graph.freshName(`${y.name}_uncompensated`));
  raw.elemType = y.elemType;
  raw.shape = y.shape;
  node.setOutputs([raw, ...node.outputs.slice(1)]);
  const shape = node.opType === 'Conv' ? [n, ...new Array<number>(Math.max(0, (y.shape?.length ?? 4) - 2)).fill(1)] : [n];
  const c = graph.addInitializer(Tensor.fromFloat32(biasName, shape, delta, type));
  const at = graph.nodes.indexOf(node);
  const add = graph.addNode('Add', [raw, c], [`${y.name}_compensated`], { name: graph.freshName(`${node.name || y.name}_compensation`), ...(graph.nodes[at + 1] ? { before: graph.nodes[at + 1]! } : {}) });
  const placeholder = add.output(0);
  add.setOutputs([y]);
  graph.deleteValues([placeholder]);
}

/** A stored C/bias as float32 of dims [n], [1, n] or [m, n] (a scalar or [1] broadcast to [n], [m, 1] to [m, n]). */
function broadcastBias(t: Tensor, n: number): { data: Float32Array; dims: number[] } {
  const v = t.toFloat32();
  const dims = t.dims;
  if (dims.at(-1) === n) return { data: v, dims };
  if (v.length === 1) return { data: new Float32Array(n).fill(v[0]!), dims: [n] };
  if (dims.length === 2 && dims[1] === 1) {
    const m = dims[0]!;
    const out = new Float32Array(m * n);
    for (let i = 0; i < m; i++) out.fill(v[i]!, i * n, (i + 1) * n);
    return { data: out, dims: [m, n] };
  }
  throw new Error(`internal: bias of dims [${dims}] for ${n} outputs`);
}

/** Removes a bias value nothing reads any more, and the Cast/Identity chain and initializer behind it. */
function dropIfUnused(model: Model, v: Value): void {
  if (v.uses().length || v.isGraphOutput() || v.isGraphInput()) return;
  const p = v.producer();
  if (p) {
    const input = p.input(0);
    model.graph.removeNodes([p]);
    if (input) dropIfUnused(model, input);
  } else if (v.initializer) model.graph.deleteValues([v]);
}
