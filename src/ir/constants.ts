import type { Node } from './node.js';
import { Tensor } from './tensor.js';
import type { Value } from './value.js';

/**
 * Where a constant's data is stored, so a pass that rewrites it knows what to replace: an initializer, the `value`
 * attribute of a Constant node, or one of those behind a Cast (fp16 weights upcast at run time) or an Identity.
 */
export interface ConstantSource {
  /** The initializer or Constant-node output that holds the stored data. */
  readonly stored: Value;
  /** The stored tensor (in its stored element type). */
  readonly tensor: Tensor;
  /** The Cast / Identity nodes between the stored data and the value asked about, nearest first. */
  readonly through: readonly Node[];
}

/** Finds the stored data behind a value, or undefined when the value is not constant. */
export function constantSource(v: Value | null | undefined): ConstantSource | undefined {
  const through: Node[] = [];
  for (let cur = v; cur; ) {
    if (cur.initializer) {
      // An initializer that is also a graph input can be overridden at run time: not a constant.
      if (cur.isGraphInput()) return undefined;
      return { stored: cur, tensor: cur.initializer, through };
    }
    const p = cur.producer();
    if (!p || p.domain !== '' && p.domain !== 'ai.onnx') return undefined;
    if (p.opType === 'Constant') {
      const t = constantNodeTensor(p);
      return t ? { stored: cur, tensor: t, through } : undefined;
    }
    if (p.opType !== 'Cast' && p.opType !== 'Identity') return undefined;
    through.unshift(p);
    cur = p.input(0);
  }
  return undefined;
}

/** The constant's values as float32 (after any Cast), or undefined when not constant. */
export function constantFloat32(v: Value | null | undefined): { dims: number[]; data: Float32Array } | undefined {
  const src = constantSource(v);
  if (!src) return undefined;
  return { dims: src.tensor.dims, data: src.tensor.toFloat32() };
}

/** The constant's values as numbers (shape vectors, axes, pads), or undefined when not constant. */
export function constantNumbers(v: Value | null | undefined): number[] | undefined {
  const src = constantSource(v);
  return src ? src.tensor.toNumbers() : undefined;
}

/** The tensor a Constant node produces, from whichever `value*` attribute it uses. */
export function constantNodeTensor(node: Node): Tensor | undefined {
  const name = node.outputs[0]?.name ?? '';
  for (const a of node.attributes) {
    switch (a.name) {
      case 'value': return a.t ? new Tensor(a.t) : undefined;
      case 'value_float': return Tensor.fromFloat32(name, [], Float32Array.of(a.f));
      case 'value_floats': return Tensor.fromFloat32(name, [a.floats.length], Float32Array.from(a.floats));
      case 'value_int': return Tensor.fromInt64(name, [], [a.i]);
      case 'value_ints': return Tensor.fromInt64(name, [a.ints.length], a.ints);
      default: break;
    }
  }
  return undefined;
}
