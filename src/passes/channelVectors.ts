import { constantSource } from '../ir/constants.js';
import { DataType } from '../ir/dtype.js';
import type { Node } from '../ir/node.js';
import { halfTable, halfWords, type Tensor } from '../ir/tensor.js';
import type { ChannelGroup } from './dependency/groups.js';

/** The output-channel vectors of one producer of a group (rows of an n × d matrix, row-major), read on demand. */
export interface ProducerRows {
  readonly node: Node;
  /** Output channels of the producer. */
  readonly n: number;
  /** Length of each vector. */
  readonly d: number;
  /**
   * The group unit (index into 0..group.channels) each row belongs to. Usually row j is unit j; when channels are
   * tied (attention heads, a grouped conv's groups, channels coupled across a Concat) several rows share a unit, and
   * in a group spanning a Concat a producer covers only some units.
   */
  readonly unitOf: Int32Array;
  /**
   * The n·d values, row j the weight vector of output channel j. Read anew on every call (external data from disk)
   * and kept by no one, so a group's producers are held one at a time. Read-only: it may be a view of the model's weights.
   */
  rows(): Float32Array;
}

/**
 * For each producer of `group`, its n output-channel vectors as the paper defines them (section 3.1: the weights of
 * neuron j): Gemm — row or column j of B honouring transB; MatMul with a constant [d, n] weight — column j; Conv —
 * the flattened C/g·kH·kW filter of output channel j; ConvTranspose — weight axis 1 (its C·kH·kW slice). Weights
 * stored as float16, behind Cast, or in Constant nodes are read as float32. An attention group adds its output
 * projections' input rows (`consumerChannels`), so a head's vector is its Q, K, V columns and its O rows.
 * Memory: nothing is read until `rows()` is called; weights whose rows are already contiguous (Conv, Gemm with
 * transB) are then used in place, so scoring VGG16's fc1 (411 MB) holds it once, not three times.
 */
export function channelVectors(group: ChannelGroup): ProducerRows[] {
  return [...group.producerChannels, ...group.consumerChannels].map((p) => {
    const src = constantSource(p.node.input(p.weight.input));
    if (!src) throw new Error(`internal: weight of ${p.node.label} is not a constant`);
    const { tensor } = src;
    const dims = tensor.dims;
    const n = dims[p.weight.axis]!;
    const d = n === 0 ? 0 : tensor.numel / n;
    return { node: p.node, n, d, unitOf: p.unitOf, rows: () => rowsOf(tensor, p.weight.axis) };
  });
}

/** rowsAlong on the tensor's values; 16-bit floats read by columns are widened as they are transposed (one pass). */
function rowsOf(t: Tensor, axis: number): Float32Array {
  const dims = t.dims;
  const table = halfTable(t.dataType);
  const outer = dims.slice(0, axis).reduce((p, x) => p * x, 1);
  if (table && outer > 1 && axis === dims.length - 1) return transposed(halfWords(t.bytes(), t.numel), outer, dims[axis]!, table);
  return rowsAlong(float32Values(t), dims, axis).rows;
}

/** The tensor's values as float32: a view of its bytes when they are float32 and 4-byte aligned, else a copy. */
function float32Values(t: Tensor): Float32Array {
  if (t.dataType === DataType.FLOAT) {
    const b = t.bytes();
    if (b.byteOffset % 4 === 0 && b.byteLength === 4 * t.numel) return new Float32Array(b.buffer, b.byteOffset, t.numel);
  }
  return t.toFloat32();
}

/**
 * The [d, n] matrix `data` as n rows of d (a MatMul weight read by columns), mapped through `table` when given
 * (16-bit float bit patterns): a tiled transpose of element copies, no per-element subarray.
 */
function transposed(data: Float32Array | Uint16Array, d: number, n: number, table?: Float32Array): Float32Array {
  const rows = new Float32Array(n * d);
  for (let o0 = 0; o0 < d; o0 += TILE) {
    const o1 = Math.min(d, o0 + TILE);
    for (let j0 = 0; j0 < n; j0 += TILE) {
      const j1 = Math.min(n, j0 + TILE);
      if (table) for (let o = o0; o < o1; o++) for (let j = j0, src = o * n + j0; j < j1; j++, src++) rows[j * d + o] = table[data[src]!]!;
      else for (let o = o0; o < o1; o++) for (let j = j0, src = o * n + j0; j < j1; j++, src++) rows[j * d + o] = data[src]!;
    }
  }
  return rows;
}

/** Side of the square tiles the transpose copies, so both the rows read and the rows written stay in cache. */
const TILE = 64;

/**
 * The tensor as n rows, one per index along `axis`, each holding the other axes in row-major order. Along axis 0 the
 * rows already lie that way and the result is a view of `data` (no copy).
 */
export function rowsAlong(data: Float32Array, dims: readonly number[], axis: number): { rows: Float32Array; n: number; d: number } {
  const n = dims[axis]!;
  const outer = dims.slice(0, axis).reduce((p, x) => p * x, 1);
  const inner = dims.slice(axis + 1).reduce((p, x) => p * x, 1);
  const d = outer * inner;
  if (outer === 1) return { rows: data.subarray(0, n * d), n, d };
  if (inner === 1) return { rows: transposed(data, outer, n), n, d };
  const rows = new Float32Array(n * d);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const src = (o * n + j) * inner;
      rows.set(data.subarray(src, src + inner), j * d + o * inner);
    }
  }
  return { rows, n, d };
}
