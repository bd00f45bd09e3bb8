import type { Dim, Shape } from '../value.js';

/** Dimension arithmetic shared by the shape rules: known sizes, symbolic names and unknowns. */

/**
 * Bounds on what a shape may state or a node may compute: a dim below 2^40 and fewer than 2^46 elements in all. Both
 * are far beyond any tensor that can exist, and they keep products of dims (and byte counts) exact in doubles.
 */
export const MAX_DIM = 2 ** 40;
export const MAX_SHAPE_ELEMENTS = 2 ** 46;

/** Why a shape's known dims cannot be real (negative, fractional, too large), or undefined when they can. */
export function implausibleDims(shape: Shape): string | undefined {
  let n = 1;
  for (const d of shape) {
    if (!isKnown(d)) continue;
    if (!Number.isInteger(d) || d < 0) return `a dimension of ${d}`;
    if (d >= MAX_DIM) return `a dimension of ${d} (2^${Math.log2(d).toFixed(1)})`;
    n *= d;
  }
  return n >= MAX_SHAPE_ELEMENTS ? `${n} elements` : undefined;
}

export function isKnown(d: Dim | undefined): d is number {
  return typeof d === 'number';
}

export function allKnown(dims: readonly Dim[]): dims is number[] {
  return dims.every(isKnown);
}

/** Axis `axis` (negative counts from the end) of a rank-`rank` tensor, or undefined when out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}

/** Several axes normalized; undefined when any is out of range or repeated. */
export function normalizeAxes(axes: readonly number[], rank: number): number[] | undefined {
  const out: number[] = [];
  for (const axis of axes) {
    const a = normalizeAxis(axis, rank);
    if (a === undefined || out.includes(a)) return undefined;
    out.push(a);
  }
  return out;
}

/** Numpy broadcasting of two dims: a known size other than 1 wins, equal symbols stay, anything else is unknown. */
function broadcastDim(a: Dim, b: Dim): Dim {
  if (a === 1) return b;
  if (b === 1) return a;
  if (isKnown(a)) return a;
  if (isKnown(b)) return b;
  return a !== null && a === b ? a : null;
}

/** Multidirectional (numpy) broadcasting; undefined when any rank is unknown. */
export function broadcastShapes(shapes: readonly (Shape | undefined)[]): Shape | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(0, ...shapes.map((s) => s!.length));
  const out: Dim[] = new Array<Dim>(rank).fill(1);
  for (const s of shapes) {
    const offset = rank - s!.length;
    s!.forEach((d, i) => { out[offset + i] = broadcastDim(out[offset + i]!, d); });
  }
  return out;
}

/** Operand shapes that cannot broadcast (two known sizes on one axis, neither 1), written out; undefined when they can. */
export function broadcastClash(shapes: readonly (Shape | undefined)[]): string | undefined {
  const known = shapes.filter((s): s is Shape => s !== undefined);
  const rank = Math.max(0, ...known.map((s) => s.length));
  for (let k = 1; k <= rank; k++) {
    const sizes = new Set(known.map((s) => s[s.length - k]).filter((d): d is number => isKnown(d) && d !== 1));
    if (sizes.size > 1) return known.map((s) => `[${s.map((d) => d ?? '?').join(',')}]`).join(' and ');
  }
  return undefined;
}

/** Two dims that must be equal (Concat's other axes, Where's operands): the best-known one. */
export function mergeDim(a: Dim, b: Dim): Dim {
  if (isKnown(a)) return a;
  if (isKnown(b)) return b;
  return a ?? b;
}

/** Product of dims: known when all are; a single symbol times ones stays that symbol. */
export function productDims(dims: readonly Dim[]): Dim {
  if (allKnown(dims)) return dims.reduce((p, d) => p * d, 1);
  const notOne = dims.filter((d) => d !== 1);
  return notOne.length === 1 ? notOne[0]! : null;
}

/** Sum of dims (Concat's axis): known when all are; a symbol plus zeros stays that symbol. */
export function sumDims(dims: readonly Dim[]): Dim {
  if (allKnown(dims)) return dims.reduce((s, d) => s + d, 0);
  const notZero = dims.filter((d) => d !== 0);
  return notZero.length === 1 ? notZero[0]! : null;
}

/** d + n: a symbol plus 0 stays the symbol. */
export function addToDim(d: Dim, n: number): Dim {
  if (isKnown(d)) return d + n;
  return n === 0 ? d : null;
}

/** d * n: a symbol times 1 stays the symbol. */
export function scaleDim(d: Dim, n: number): Dim {
  if (isKnown(d)) return d * n;
  return n === 1 ? d : null;
}

/** Number of elements when every dim is known. */
export function numelOf(shape: Shape | undefined): number | undefined {
  if (!shape || !allKnown(shape)) return undefined;
  return shape.reduce((p, d) => p * d, 1);
}

/** A declared shape refined by an inferred one: its unknown dims, and symbols we computed a size for (same rank only). */
export function refineDims(declared: Shape, inferred: Shape): Shape {
  if (declared.length !== inferred.length) return declared;
  return declared.map((d, i) => (isKnown(d) ? d : isKnown(inferred[i]) ? inferred[i]! : d ?? inferred[i]!));
}

/** Replaces the unknown dims of `shape` with those `fallback` knows (same rank only). */
export function fillUnknownDims(shape: Shape, fallback: Shape | undefined): Shape {
  if (!fallback || fallback.length !== shape.length) return shape;
  return shape.map((d, i) => d ?? fallback[i]!);
}
