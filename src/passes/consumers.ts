import { constantSource } from '../ir/constants.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import type { Tensor } from '../ir/tensor.js';
import type { Value } from '../ir/value.js';
import { analysis, type Analysis } from './dependency/analyze.js';
import type { ChannelGroup } from './dependency/groups.js';

/**
 * A weight layer (Gemm, MatMul, Conv) that reads a group's channels: what activation-aware criteria weigh and what
 * bias compensation corrects. Its data input `input` carries the channels on `axis`; position k of that axis belongs
 * to group unit `unitOf[k]` (−1: a position of another group, when one tensor carries several groups' channels).
 */
export interface GroupConsumer {
  readonly node: Node;
  /** The tensor read: "the activation" of the group's units as this consumer sees it. */
  readonly input: Value;
  readonly dataInput: number;
  readonly axis: number;
  readonly unitOf: Int32Array;
  /** The consumer's weight: input index, the axis indexed by the input positions, and the output-feature axis. */
  readonly weight: { readonly input: number; readonly axis: number; readonly outAxis: number };
  /**
   * The stored weight when the consumer reads it directly (an initializer or Constant, possibly behind Cast/Identity);
   * undefined when a Transpose or another op lies between (the criteria and compensation then say so).
   */
  readonly tensor: Tensor | undefined;
  /** The class of each output feature (the consumer's own output channels), to follow them through the rewrite. */
  readonly outputClasses: Int32Array;
}

/** The consumers of one group, in graph order; a weight layer reading the group through two inputs appears twice. */
export function groupConsumers(model: Model, group: ChannelGroup): GroupConsumer[] {
  return consumersOf(analysis(model), group);
}

export function consumersOf(a: Analysis, group: ChannelGroup): GroupConsumer[] {
  const unitOfClass = new Map<number, number>();
  group.unitClasses.forEach((c, u) => unitOfClass.set(c, u));
  const out: GroupConsumer[] = [];
  for (const c of a.state.consumers) {
    if (!c.labels.some((cls) => unitOfClass.has(cls))) continue;
    const input = c.node.input(c.data);
    const root = a.state.roots.find((r) => r.node === c.node && r.scoring);
    if (!input || !root) throw new Error(`internal: consumer ${c.node.label} has no data input or output channels`);
    out.push({
      node: c.node, input, dataInput: c.data, axis: c.axis,
      unitOf: Int32Array.from(c.labels, (cls) => unitOfClass.get(cls) ?? -1),
      weight: { input: c.weight, axis: c.weightAxis, outAxis: root.weight.axis },
      tensor: constantSource(c.node.input(c.weight))?.tensor,
      outputClasses: root.labels,
    });
  }
  return out;
}

/**
 * Visits every element of a consumer's weight with its input position k (along `axis`) and output feature o (along
 * `outAxis`); the other axes (a Conv kernel's taps) are summed over by the caller. Values read as float32.
 */
export function forEachWeight(tensor: Tensor, axis: number, outAxis: number, visit: (k: number, o: number, w: number) => void): void {
  const dims = tensor.dims;
  const values = tensor.toFloat32();
  const stride = (a: number): number => dims.slice(a + 1).reduce((p, d) => p * d, 1);
  const [sk, so, nk, no] = [stride(axis), stride(outAxis), dims[axis]!, dims[outAxis]!];
  for (let f = 0; f < values.length; f++) visit(Math.floor(f / sk) % nk, Math.floor(f / so) % no, values[f]!);
}
