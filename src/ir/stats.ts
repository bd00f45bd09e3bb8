import { constantSource } from './constants.js';
import { dataTypeName, isFloatType } from './dtype.js';
import { cloneGraph, type Graph } from './graph.js';
import { CACHE_LENGTH_AXIS, cachePairs } from './kvCache.js';
import { Model } from './model.js';
import type { Node } from './node.js';
import { inferShapes } from './shapeInference.js';
import type { Tensor } from './tensor.js';
import type { Dim, Value } from './value.js';

/** Compute of one Conv / ConvTranspose / Gemm / MatMul node (or fused attention / MatMulNBits node). */
export interface NodeStats {
  node: string;
  op: string;
  /** Multiply-accumulates for one run; null when a shape it needs is unknown. */
  macs: number | null;
  /** Elements of the float constants (numel > 1) the node reads: its weights and bias. */
  params: number;
  /** The batch dimension was unknown and counted as 1. */
  batchAssumed: boolean;
}

export interface ValueSummary {
  name: string;
  elemType: string;
  /** Dims as numbers, symbolic names, or null for unknown; null when even the rank is unknown. */
  shape: Dim[] | null;
}

export interface ModelStats {
  /** Elements of all floating-point constant tensors with more than one element (the weights). */
  params: number;
  /** Bytes those tensors take as stored (fp16 weights count 2 bytes each). */
  paramBytes: number;
  /** Sum of the known per-node MACs. */
  macs: number;
  /** Some MAC node had an unknown batch dimension, counted as 1. */
  macsBatchAssumed: boolean;
  /**
   * The graph inputs' lengths are symbolic (a decoder's sequence and past lengths): MACs are counted per token, with
   * every symbolic input dim 1 except the KV cache's past length, 0 (one token, first step).
   */
  macsPerToken: boolean;
  /** Labels of MAC nodes whose shapes stayed unknown, so `macs` leaves them out. */
  macsUnknown: string[];
  perNode: NodeStats[];
  /** Node count, subgraphs included. */
  nodes: number;
  /** Node count by op type (`domain.Op` outside the default domain). */
  opCounts: Record<string, number>;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  /** Op types shape inference has no rule for (their outputs' shapes may be unknown). */
  unknownOps: string[];
}

const MAC_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Attention']);
const MICROSOFT = 'com.microsoft';
const MICROSOFT_MAC_OPS = new Set(['Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'MatMulNBits']);

/** Parameter, MAC and op counts of a model. Runs shape inference first (it only fills in unknown shapes). */
export function modelStats(model: Model): ModelStats {
  const { unknownOps } = inferShapes(model);
  const graphs = allGraphs(model.graph);
  const opCounts: Record<string, number> = {};
  let nodes = 0;
  let params = 0;
  let paramBytes = 0;
  for (const g of graphs) {
    for (const v of g.initializers) {
      if (isWeight(v.initializer!)) {
        params += v.initializer!.numel;
        paramBytes += v.initializer!.byteLength;
      }
    }
    for (const n of g.nodes) {
      nodes++;
      const key = isDefaultDomain(n) ? n.opType : `${n.domain}.${n.opType}`;
      opCounts[key] = (opCounts[key] ?? 0) + 1;
      const t = constantNodeValue(n);
      if (t && isWeight(t)) {
        params += t.numel;
        paramBytes += t.byteLength;
      }
    }
  }
  let perNode = macNodes(graphs).map(nodeStats);
  const perToken = perNode.some((n) => n.macs === null) ? perTokenStats(model) : undefined;
  if (perToken) perNode = perToken;
  return {
    params,
    paramBytes,
    macs: perNode.reduce((s, n) => s + (n.macs ?? 0), 0),
    macsBatchAssumed: perNode.some((n) => n.batchAssumed && n.macs !== null),
    macsPerToken: perToken !== undefined,
    macsUnknown: perNode.filter((n) => n.macs === null).map((n) => n.node),
    perNode,
    nodes,
    opCounts,
    inputs: model.graph.inputs.filter((v) => !v.initializer).map(summarize),
    outputs: model.graph.outputs.map(summarize),
    unknownOps: [...unknownOps].sort(),
  };
}

function macNodes(graphs: readonly Graph[]): Node[] {
  return graphs.flatMap((g) => g.nodes.filter((n) => (isDefaultDomain(n) ? MAC_OPS : n.domain === MICROSOFT ? MICROSOFT_MAC_OPS : undefined)?.has(n.opType)));
}

/**
 * Per-node stats of one token: on a structural copy whose graph inputs have their symbolic dims set (batch 1,
 * flagged as assumed; the KV cache's past length 0; every other length 1), shapes inferred again. Undefined when no
 * input has a symbolic dim, or when that leaves MAC nodes unknown all the same.
 */
function perTokenStats(model: Model): NodeStats[] | undefined {
  const copy = cloneGraph(model.graph);
  const past = new Set(cachePairs(model.graph).map((p) => p.past.shape![CACHE_LENGTH_AXIS]).filter((d): d is string => typeof d === 'string'));
  let symbolic = false;
  for (const v of copy.graph.inputs) {
    if (v.initializer || !v.shape) continue;
    v.shape = v.shape.map((d, i) => {
      if (typeof d !== 'string') return d;
      symbolic = true;
      return i > 0 && past.has(d) ? 0 : 1;
    });
  }
  if (!symbolic) return undefined;
  const batchSymbolic = model.graph.inputs.some((v) => typeof v.shape?.[0] === 'string');
  try {
    inferShapes(new Model(model.proto, copy.graph, model.baseDir), { overwrite: true });
  } catch {
    return undefined;
  }
  const stats = macNodes(allGraphs(copy.graph)).map((n) => ({ ...nodeStats(n), batchAssumed: batchSymbolic }));
  return stats.some((n) => n.macs === null) ? undefined : stats;
}

/** MACs of one node: output elements × the length of the dot product that makes each one. */
export function nodeStats(n: Node): NodeStats {
  const params = n.inputs.reduce((s, v) => {
    const t = constantSource(v)?.tensor;
    return s + (t && isWeight(t) ? t.numel : 0);
  }, 0);
  const { macs, batchAssumed } = countMacs(n);
  return { node: n.label, op: n.opType, macs, params, batchAssumed };
}

/**
 * Multiply-accumulates each element of a Conv / ConvTranspose / Gemm / MatMul (or fused) node's weight (input 1) takes part in,
 * for one sample (the leading axis counted as 1) and, where other dims are symbolic (a decoder's sequence), one
 * position of them (per token): removing k weight elements saves k times this many. Null when a shape it needs is
 * unknown or the node is none of those.
 */
export function macsPerWeightElement(n: Node): number | null {
  const w = shapeOf(n.input(1));
  const { macs } = countMacs(n, true, true);
  if (macs === null || !w || !w.every((d): d is number => typeof d === 'number')) return null;
  const numel = w.reduce((p, d) => p * d, 1);
  return numel > 0 ? macs / numel : null;
}

interface MacCount { macs: number | null; batchAssumed: boolean }
const UNKNOWN: MacCount = { macs: null, batchAssumed: false };

/**
 * `perSample`: the leading (batch) dim counts as 1 whatever it is, and symbolic dims (lengths) as 1 too.
 * `weightOnly`: a fused attention's weight product only, not its attention scores (MACs per weight element).
 */
function countMacs(n: Node, perSample = false, weightOnly = false): MacCount {
  if (!isDefaultDomain(n) && n.domain !== MICROSOFT) return UNKNOWN;
  const w = shapeOf(n.input(1));
  if (n.domain === MICROSOFT || n.opType === 'Attention') return fusedMacs(n, perSample, weightOnly);
  switch (n.opType) {
    case 'Conv': {
      // Y [N, Cout, *spatial] from W [Cout, Cin/group, *kernel]: each output element is a (Cin/group)·k dot product.
      const y = n.outputs[0]?.shape;
      if (!y || !w || y.length !== w.length) return UNKNOWN;
      return product([y[0]!, w[0]!, ...y.slice(2)], w.slice(1), perSample);
    }
    case 'ConvTranspose': {
      // Every input element X [N, Cin, *spatial] scatters into (Cout/group)·k outputs, W [Cin, Cout/group, *kernel].
      const x = n.input(0)?.shape;
      if (!x || !w || x.length !== w.length) return UNKNOWN;
      return product(x, w.slice(1), perSample);
    }
    case 'Gemm': {
      // Y [M, N] = A [M, K] · B [K, N] (either transposed by transA / transB).
      const a = n.input(0)?.shape;
      if (!a || !w || a.length !== 2 || w.length !== 2) return UNKNOWN;
      const [m, k] = n.getInt('transA', 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
      const cols = n.getInt('transB', 0) ? w[0]! : w[1]!;
      return product([m, cols], [k], perSample);
    }
    case 'MatMul': {
      // Y [...batch, M, N] = A [...batch, M, K] · B [...batch, K, N], numpy broadcasting; 1-D operands lose a dim.
      const a = n.input(0)?.shape;
      const y = n.outputs[0]?.shape;
      if (!a || !y || a.length === 0) return UNKNOWN;
      return product(y, [a[a.length - 1]!], perSample);
    }
    default:
      return UNKNOWN;
  }
}

/**
 * onnxruntime's fused ops and opset 23's Attention: the packed QKV projection of com.microsoft.Attention, the
 * quantized matrix of MatMulNBits (as the float MatMul it replaces), and the attention itself (Q·Kᵀ and P·V: query
 * heads · s · t · (q head + v head sizes), t the length of the present cache or of the keys).
 */
function fusedMacs(n: Node, perSample: boolean, weightOnly: boolean): MacCount {
  const x = n.input(0)?.shape;
  const y = n.outputs[0]?.shape;
  if (!x || !y) return UNKNOWN;
  if (n.opType === 'MatMulNBits') return product(y, [n.getInt('K', 0)], perSample);
  const cache = n.outputs[1]?.shape;
  let heads: number;
  let seq: Dim;
  let qkHead: Dim;
  let vHead: Dim;
  let total: Dim | undefined;
  let projection: MacCount = { macs: 0, batchAssumed: false };
  if (n.opType === 'Attention' && n.domain === MICROSOFT) {
    const w = shapeOf(n.input(1));
    heads = n.getInt('num_heads', 0);
    const [q, , v] = n.getInts('qkv_hidden_sizes') ?? [w?.[1], w?.[1], w?.[1]].map((d) => (typeof d === 'number' ? d / 3 : null));
    if (!w || w.length !== 2 || x.length !== 3) return UNKNOWN;
    projection = product([x[0]!, x[1]!, w[1]!], [w[0]!], perSample);
    [seq, qkHead, vHead, total] = [x[1]!, divided(q, heads), divided(v, heads), cache?.[3] ?? x[1]!];
  } else if (x.length === 3 && y.length === 3) {
    const qHeads = n.opType === 'Attention' ? n.getInt('q_num_heads', 0) : n.getInt('num_heads', 0);
    heads = qHeads;
    const k = n.opType === 'GroupQueryAttention' && !n.input(1) ? undefined : n.input(1)?.shape;
    seq = x[1]!;
    vHead = divided(y[2], heads);
    qkHead = n.opType === 'GroupQueryAttention' ? vHead : divided(x[2], heads);
    total = cache?.[2] ?? (k?.length === 3 ? k[1]! : n.opType === 'GroupQueryAttention' ? seq : null);
  } else {
    return UNKNOWN;
  }
  if (weightOnly) return projection;
  const scores = product([x[0]!, heads, seq, total ?? null], [typeof qkHead === 'number' && typeof vHead === 'number' ? qkHead + vHead : null], perSample);
  if (projection.macs === null || scores.macs === null) return UNKNOWN;
  return { macs: projection.macs + scores.macs, batchAssumed: projection.batchAssumed || scores.batchAssumed };
}

function divided(d: Dim | undefined, n: number): Dim {
  return typeof d === 'number' && n > 0 ? d / n : null;
}

/**
 * The product of `leading` (whose first dim is the batch, counted as 1 when unknown, or always with `perSample`)
 * and `rest`; unknown when any other dim is not a number (with `perSample`: is unknown, not symbolic).
 */
function product(leading: readonly Dim[], rest: readonly Dim[], perSample: boolean): MacCount {
  let batchAssumed = false;
  let p = 1;
  for (const [i, d] of [...leading, ...rest].entries()) {
    if (i === 0 && leading.length > 0 && perSample) continue;
    if (typeof d === 'number') p *= d;
    else if (perSample && typeof d === 'string') continue;
    else if (i === 0 && leading.length > 0) batchAssumed = true;
    else return UNKNOWN;
  }
  return { macs: p, batchAssumed };
}

/** A value's shape as known to inference, or the dims of the constant behind it. */
function shapeOf(v: Value | undefined): Dim[] | undefined {
  if (!v) return undefined;
  return v.shape ?? constantSource(v)?.tensor.dims;
}

/** A weight, as the parameter count defines it: a floating-point tensor with more than one element. */
function isWeight(t: Tensor): boolean {
  return isFloatType(t.dataType) && t.numel > 1;
}

/** The tensor in a Constant node's `value` attribute (value_float(s) hold scalars and lists, not weights). */
function constantNodeValue(n: Node): Tensor | undefined {
  if (n.opType !== 'Constant' || !isDefaultDomain(n)) return undefined;
  return n.getTensor('value');
}

function isDefaultDomain(n: Node): boolean {
  return n.domain === '' || n.domain === 'ai.onnx';
}

function allGraphs(g: Graph): Graph[] {
  const out = [g];
  for (const n of g.nodes) for (const subs of n.subgraphs.values()) for (const s of subs) out.push(...allGraphs(s));
  return out;
}

function summarize(v: Value): ValueSummary {
  return { name: v.name, elemType: v.elemType === undefined ? '?' : dataTypeName(v.elemType), shape: v.shape ?? null };
}
