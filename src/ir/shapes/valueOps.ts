import type { Dim } from '../value.js';

/**
 * Contents of small known tensors moved by Slice and Transpose. Exporters build pad and shape vectors this way
 * (torch's F.pad: Reshape [-1, 2] → Slice with step -1 → Transpose → Reshape), so folding them keeps every later
 * shape known.
 */

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Row-major gather: out[idx] = values[Σ sourceIndex(idx)_k · stride_k] over the output index space. */
function gatherND(values: readonly Dim[], inShape: readonly number[], outShape: readonly number[], source: (axis: number, i: number) => number, axisOf: (k: number) => number): Dim[] {
  const inStrides = strides(inShape);
  const total = outShape.reduce((a, b) => a * b, 1);
  const out: Dim[] = new Array<Dim>(total);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    let at = 0;
    for (let k = 0; k < outShape.length; k++) at += source(k, idx[k]!) * inStrides[axisOf(k)]!;
    out[flat] = values[at] ?? null;
    for (let k = outShape.length - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Slice of a known tensor: per-axis first index and step (axes not sliced take first 0, step 1). */
export function sliceValues(values: readonly Dim[], shape: readonly number[], outShape: readonly number[], first: readonly number[], step: readonly number[]): Dim[] {
  return gatherND(values, shape, outShape, (k, i) => first[k]! + i * step[k]!, (k) => k);
}

export function transposeValues(values: readonly Dim[], shape: readonly number[], perm: readonly number[]): Dim[] {
  return gatherND(values, shape, perm.map((p) => shape[p]!), (_k, i) => i, (k) => perm[k]!);
}
