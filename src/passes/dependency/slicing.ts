import { elementSize } from '../../ir/dtype.js';
import { fail } from '../../ir/errors.js';
import { Tensor } from '../../ir/tensor.js';

/**
 * A copy of `t` keeping, along each axis with an index list, only those indices (sorted ascending), in the tensor's
 * own element type (float16 weights stay float16). Works on raw bytes: contiguous runs of kept indices on the
 * innermost sliced axis are copied in one go. A tensor whose bytes are not in memory (external data) gives a
 * computed tensor that reads and slices it when it is written, so a pruned LLM is never all in memory.
 */
export function sliceTensor(t: Tensor, keep: ReadonlyMap<number, Int32Array>, name = t.name): Tensor {
  const size = elementSize(t.dataType);
  if (size === undefined || size < 1) fail(`cannot slice tensor '${t.name}': element type ${t.dataType} is not byte-addressable`);
  const newDims = t.dims.map((d, a) => keep.get(a)?.length ?? d);
  if (t.deferred) return Tensor.computed(name, newDims, t.dataType, () => sliceBytes(t, keep, newDims, size));
  return Tensor.fromBytes(name, newDims, t.dataType, sliceBytes(t, keep, newDims, size));
}

function sliceBytes(t: Tensor, keep: ReadonlyMap<number, Int32Array>, newDims: readonly number[], size: number): Uint8Array {
  const dims = t.dims;
  const src = t.bytes();
  const out = new Uint8Array(newDims.reduce((p, d) => p * d, 1) * size);
  const last = Math.max(-1, ...keep.keys());
  if (last < 0 || out.length === 0) {
    out.set(src.subarray(0, out.length));
    return out;
  }
  let inner = size;
  for (let a = last + 1; a < dims.length; a++) inner *= dims[a]!;
  // Source strides (bytes) of axes 0..last.
  const stride = new Array<number>(last + 1);
  stride[last] = inner;
  for (let a = last - 1; a >= 0; a--) stride[a] = stride[a + 1]! * dims[a + 1]!;
  const runs = runsOf(keep.get(last) ?? rangeOf(dims[last]!));
  const lists = Array.from({ length: last }, (_, a) => keep.get(a) ?? rangeOf(dims[a]!));
  const copy = copier(src, out, inner);
  let at = 0;
  const walk = (a: number, offset: number): void => {
    if (a === last) {
      for (let r = 0; r < runs.length; r += 2) {
        const n = runs[r + 1]! * inner;
        copy(offset + runs[r]! * inner, at, n);
        at += n;
      }
      return;
    }
    const list = lists[a]!;
    for (let k = 0; k < list.length; k++) walk(a + 1, offset + list[k]! * stride[a]!);
  };
  walk(0, 0);
  return out;
}

function rangeOf(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** [start, length, start, length, ...] of consecutive runs in a sorted index list. */
function runsOf(list: Int32Array): number[] {
  const runs: number[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i + 1;
    while (j < list.length && list[j] === list[j - 1]! + 1) j++;
    runs.push(list[i]!, j - i);
    i = j;
  }
  return runs;
}

/** Byte copier that uses word-sized loops for short runs (set() on a subarray costs more than a few words). */
function copier(src: Uint8Array, out: Uint8Array, inner: number): (from: number, to: number, n: number) => void {
  if (inner % 4 === 0 && src.byteOffset % 4 === 0) {
    const s32 = new Uint32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
    const o32 = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
    return (from, to, n) => {
      if (n >= 256) out.set(src.subarray(from, from + n), to);
      else for (let f = from >> 2, t = to >> 2, e = f + (n >> 2); f < e; f++, t++) o32[t] = s32[f]!;
    };
  }
  return (from, to, n) => {
    if (n >= 64) out.set(src.subarray(from, from + n), to);
    else for (let k = 0; k < n; k++) out[to + k] = src[from + k]!;
  };
}
