import { constantSource } from '../ir/constants.js';
import { DataType } from '../ir/dtype.js';
import type { Node } from '../ir/node.js';
import type { Tensor } from '../ir/tensor.js';
import type { ChannelGroup } from './dependency/groups.js';

/** The output-channel vectors of one producer of a group (rows of an n × d matrix, row-major). */
export interface ProducerRows {
  readonly node: Node;
  /** n·d values: row j is the weight vector of output channel j. Read-only: it may be a view of the model's weights. */
  readonly rows: Float32Array;
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
}

/**
 * For each producer of `group`, its n output-channel vectors as the paper defines them (section 3.1: the weights of
 * neuron j): Gemm — row or column j of B honouring transB; MatMul with a constant [d, n] weight — column j; Conv —
 * the flattened C/g·kH·kW filter of output channel j; ConvTranspose — weight axis 1 (its C·kH·kW slice). Weights
 * stored as float16, behind Cast, or in Constant nodes are read as float32. An attention group adds its output
 * projections' input rows (`consumerChannels`), so a head's vector is its Q, K, V columns and its O rows.
 * Memory: weights whose rows are already contiguous (Conv, Gemm with transB) are used in place, so scoring VGG16's
 * fc1 (411 MB) holds it once, not three times.
 */
export function channelVectors(group: ChannelGroup): ProducerRows[] {
  return [...group.producerChannels, ...group.consumerChannels].map((p) => {
    const src = constantSource(p.node.input(p.weight.input));
    if (!src) throw new Error(`internal: weight of ${p.node.label} is not a constant`);
    const { rows, n, d } = rowsAlong(float32Values(src.tensor), src.tensor.dims, p.weight.axis);
    return { node: p.node, rows, n, d, unitOf: p.unitOf };
  });
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
 * The tensor as n rows, one per index along `axis`, each holding the other axes in row-major order. Along axis 0 the
 * rows already lie that way and the result is a view of `data` (no copy).
 */
export function rowsAlong(data: Float32Array, dims: readonly number[], axis: number): { rows: Float32Array; n: number; d: number } {
  const n = dims[axis]!;
  const outer = dims.slice(0, axis).reduce((p, x) => p * x, 1);
  const inner = dims.slice(axis + 1).reduce((p, x) => p * x, 1);
  const d = outer * inner;
  if (outer === 1) return { rows: data.subarray(0, n * d), n, d };
  const rows = new Float32Array(n * d);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const src = (o * n + j) * inner;
      rows.set(data.subarray(src, src + inner), j * d + o * inner);
    }
  }
  return { rows, n, d };
}
