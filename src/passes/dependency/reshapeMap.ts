import type { Dim } from '../../ir/value.js';
import type { AnalysisState, Labels } from './state.js';

/**
 * How the channels of one tracked input axis land on the output of a reshape (Reshape, Flatten, Squeeze,
 * Unsqueeze). Works on the flat index: the shapes are cut into blocks at the prefix products both sides share,
 * and inside the channel axis's block (static dims only) an output axis either
 *  - contains the channel axis (merge: [N,C,H,W] → [N,C·H·W], each channel becomes H·W consecutive features), or
 *  - is contained in it (split: [N,S,H·d] → [N,S,H,d]); then the channels that share that output position are
 *    removed together (one attention head, one group of a GroupNorm reshape), and `chooseSplit` picks which of the
 *    split axes carries the channels.
 * Returns the output axis and its labels, or why the channels cannot follow.
 */
export function mapThroughReshape(
  st: AnalysisState, inShape: readonly Dim[], outShape: readonly Dim[], axis: number, labels: Labels,
  chooseSplit: (candidates: number[]) => number,
): { axis: number; labels: Labels } | string {
  const block = blockOf(inShape, outShape, axis);
  if (!block) return 'the reshape does not keep the channel axis apart from dims it cannot see (unknown or symbolic sizes)';
  const { i1, j0, j1 } = block;
  const dA = inShape[axis] as number;
  const sA = product(inShape, axis + 1, i1);
  const merges: { b: number; m: number; dB: number }[] = [];
  const splits: { b: number; m: number; dB: number }[] = [];
  for (let b = j0; b < j1; b++) {
    const dB = outShape[b] as number;
    if (dB === 1 && dA !== 1) continue;
    const sB = product(outShape, b + 1, j1);
    if (sB <= sA && sB * dB >= sA * dA && sA % sB === 0 && (sB * dB) % (sA * dA) === 0) merges.push({ b, m: sA / sB, dB });
    else if (sB >= sA && sB * dB <= sA * dA && sB % sA === 0 && (sA * dA) % (sB * dB) === 0) splits.push({ b, m: sB / sA, dB });
  }
  if (merges.length) {
    const { b, m, dB } = merges[0]!;
    const out = new Int32Array(dB);
    for (let x = 0; x < dB; x++) out[x] = labels[Math.floor(x / m) % dA]!;
    return { axis: b, labels: out };
  }
  if (!splits.length) return `the reshape mixes the channel axis ${axis} with other axes`;
  const chosen = splits.find((s) => s.b === chooseSplit(splits.map((c) => c.b))) ?? splits[0]!;
  const { b, m, dB } = chosen;
  const out = new Int32Array(dB).fill(-1);
  for (let i = 0; i < dA; i++) {
    const x = Math.floor(i / m) % dB;
    if (out[x] === -1) out[x] = labels[i]!;
    else st.atoms.union(out[x]!, labels[i]!);
  }
  return { axis: b, labels: out };
}

/**
 * The block of axes around `axis` whose products agree on both sides, if all its dims are known numbers. Block
 * boundaries are where the products of the dims before (or, past an unknown dim, after) agree.
 */
function blockOf(inShape: readonly Dim[], outShape: readonly Dim[], axis: number): { i0: number; i1: number; j0: number; j1: number } | undefined {
  const found = new Set<string>();
  const bounds: [number, number][] = [];
  const add = (i: number, j: number) => {
    if (!found.has(`${i},${j}`)) bounds.push([i, j]);
    found.add(`${i},${j}`);
  };
  matchPrefixes(prefixKeys(inShape, 'in'), prefixKeys(outShape, 'out'), add);
  const rev = (s: readonly Dim[]) => [...s].reverse();
  matchPrefixes(prefixKeys(rev(inShape), 'in'), prefixKeys(rev(outShape), 'out'), (i, j) => add(inShape.length - i, outShape.length - j));
  bounds.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let t = 0; t + 1 < bounds.length; t++) {
    const [i0, j0] = bounds[t]!;
    const [i1, j1] = bounds[t + 1]!;
    if (axis < i0 || axis >= i1) continue;
    const dims = [...inShape.slice(i0, i1), ...outShape.slice(j0, j1)];
    return dims.every((d) => typeof d === 'number') ? { i0, i1, j0, j1 } : undefined;
  }
  return undefined;
}

/** Pairs (i, j) where the first i input dims and the first j output dims have equal products, in order. */
function matchPrefixes(inKeys: string[], outKeys: string[], add: (i: number, j: number) => void): void {
  let j = 0;
  for (let i = 0; i < inKeys.length; i++) {
    const k = outKeys.indexOf(inKeys[i]!, j);
    if (k >= 0) {
      add(i, k);
      j = k;
    }
  }
}

/** Keys of the prefix products: a number times the sorted symbolic names; an unknown dim poisons the rest. */
function prefixKeys(shape: readonly Dim[], side: string): string[] {
  const keys = ['1|'];
  let coef = 1;
  const syms: string[] = [];
  let unknown = false;
  shape.forEach((d, i) => {
    if (d === null) unknown = true;
    else if (typeof d === 'number') coef *= d;
    else syms.push(...d.split('*'));
    keys.push(unknown ? `?${side}${i}` : `${coef}|${[...syms].sort().join('*')}`);
  });
  return keys;
}

/**
 * The output shape with its one unknown dim (a Reshape's -1 over symbolic dims) worked out, when it can be, as the
 * input's product over the other output dims; products of several symbols are written `a*b`.
 */
export function completeShape(inShape: readonly Dim[], outShape: readonly Dim[]): Dim[] {
  const unknown = outShape.flatMap((d, i) => (d === null ? [i] : []));
  if (unknown.length !== 1 || inShape.some((d) => d === null)) return [...outShape];
  let coef = 1;
  const syms: string[] = [];
  for (const d of inShape) {
    if (typeof d === 'number') coef *= d;
    else syms.push(...(d as string).split('*'));
  }
  for (const d of outShape) {
    if (d === null) continue;
    if (typeof d === 'number') {
      if (d === 0 || coef % d !== 0) return [...outShape];
      coef /= d;
      continue;
    }
    for (const s of d.split('*')) {
      const k = syms.indexOf(s);
      if (k < 0) return [...outShape];
      syms.splice(k, 1);
    }
  }
  const dim: Dim = syms.length === 0 ? coef : coef === 1 ? syms.sort().join('*') : null;
  return outShape.map((d) => (d === null ? dim : d));
}

function product(shape: readonly Dim[], from: number, to: number): number {
  let p = 1;
  for (let k = from; k < to; k++) p *= shape[k] as number;
  return p;
}
