import { DataType } from '../dtype.js';
import type { Dim, Shape } from '../value.js';
import { op, type RuleContext, type RuleTable } from './context.js';
import { broadcastShapes, isKnown, mergeDim } from './dims.js';
import { checkedBroadcast } from './elementwise.js';

/** numpy.matmul: batch dims broadcast; a 1-D operand gains (then loses) a unit axis. */
export function matmulShape(a: Shape | undefined, b: Shape | undefined): Shape | undefined {
  if (!a || !b || a.length === 0 || b.length === 0) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)])!;
  const out: Dim[] = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

/**
 * Einsum's output shape: explicit (`ij,jk->ik`) or implicit (letters used once, in alphabetical order), with `...`
 * standing for broadcast batch dims. Undefined when the equation and input ranks disagree.
 */
export function einsumShape(equation: string, inputs: readonly (Shape | undefined)[]): Shape | undefined {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== inputs.length) return undefined;
  const letters = new Map<string, Dim>();
  const counts = new Map<string, number>();
  const ellipses: Shape[] = [];
  for (let t = 0; t < terms.length; t++) {
    const shape = inputs[t];
    if (!shape) return undefined;
    const term = terms[t]!;
    const at = term.indexOf('...');
    const named = term.replace('...', '');
    const ellipsisRank = shape.length - named.length;
    if (ellipsisRank < 0 || (at < 0 && ellipsisRank !== 0)) return undefined;
    if (at >= 0) ellipses.push(shape.slice(at, at + ellipsisRank));
    for (let i = 0; i < named.length; i++) {
      const axis = at >= 0 && i >= at ? i + ellipsisRank : i;
      const ch = named[i]!;
      const d = shape[axis]!;
      letters.set(ch, letters.has(ch) ? mergeDim(letters.get(ch)!, d) : d);
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
  }
  const batch = broadcastShapes(ellipses) ?? [];
  if (rhs === undefined) {
    const once = [...counts].filter(([, n]) => n === 1).map(([ch]) => ch).sort();
    return [...batch, ...once.map((ch) => letters.get(ch)!)];
  }
  const out: Dim[] = [];
  const at = rhs.indexOf('...');
  const named = rhs.replace('...', '');
  for (let i = 0; i <= named.length; i++) {
    if (i === at) out.push(...batch);
    if (i === named.length) break;
    const d = letters.get(named[i]!);
    if (d === undefined) return undefined;
    out.push(d);
  }
  return out;
}

/** MatMul's operands must agree on K (a's last axis, b's second to last) and broadcast their batch axes. */
function checkedMatmul(ctx: RuleContext, ai: number, bi: number): Shape | undefined {
  const a = ctx.shape(ai);
  const b = ctx.shape(bi);
  if (a?.length === 0 || b?.length === 0) ctx.invalid('MatMul operands must have rank 1 or more');
  if (a && b && a.length > 0 && b.length > 0) {
    const ka = a[a.length - 1]!;
    const kb = b.length === 1 ? b[0]! : b[b.length - 2]!;
    if (isKnown(ka) && isKnown(kb) && ka !== kb) ctx.invalid(`operands [${a.join(', ')}] and [${b.join(', ')}] disagree on the inner dimension (${ka} vs ${kb})`);
    else if (a.length > 2 || b.length > 2) checkedBroadcast(ctx, [a.slice(0, -2), b.slice(0, -2)]);
  }
  return matmulShape(a, b);
}

export const linearRules: RuleTable = {
  /** A [M,K] (transA: [K,M]) × B [K,N] (transB: [N,K]) + C (broadcast to [M,N]) → [M,N]. */
  Gemm: op('T T T?', 'T', { alpha: 'float', beta: 'float', broadcast: 'int', transA: 'int', transB: 'int' }, (ctx) => {
    const a = ctx.shape(0);
    const b = ctx.shape(1);
    for (const [name, s] of [['A', a], ['B', b]] as const) if (s && s.length !== 2) ctx.invalid(`${name} has shape [${s.join(', ')}]; Gemm takes matrices`);
    const transA = ctx.int('transA', 0) !== 0;
    const transB = ctx.int('transB', 0) !== 0;
    const m = a?.length === 2 ? a[transA ? 1 : 0]! : null;
    const n = b?.length === 2 ? b[transB ? 0 : 1]! : null;
    const ka = a?.length === 2 ? a[transA ? 0 : 1] : null;
    const kb = b?.length === 2 ? b[transB ? 1 : 0] : null;
    if (isKnown(ka) && isKnown(kb) && ka !== kb)
      ctx.invalid(`A [${a!.join(', ')}]${transA ? ' (transposed)' : ''} and B [${b!.join(', ')}]${transB ? ' (transposed)' : ''} disagree on K (${ka} vs ${kb})`);
    const c = ctx.shape(2);
    if (c && ctx.has(2) && ctx.opset >= 7) {
      const target = [m, n];
      const fits = c.length <= 2 && c.every((d, i) => { const t = target[target.length - c.length + i]; return !isKnown(d) || d === 1 || !isKnown(t) || d === t; });
      if (!fits) ctx.invalid(`C [${c.join(', ')}] does not broadcast to the output [${target.map((d) => d ?? '?').join(', ')}]`);
    }
    return [{ elemType: ctx.type(0), shape: [m, n] }];
  }),
  MatMul: op('T T', 'T', {}, (ctx) => [{ elemType: ctx.type(0), shape: checkedMatmul(ctx, 0, 1) }]),
  /** Inputs: a, b, a_zero_point, b_zero_point. */
  MatMulInteger: op('T1 T2 T1? T2?', 'int32', {}, (ctx) => [{ elemType: DataType.INT32, shape: checkedMatmul(ctx, 0, 1) }]),
  /** Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point. */
  QLinearMatMul: op('T1 S1 T1 T2 S2 T2 S3 T3', 'T3', {}, (ctx) => [{ elemType: ctx.type(7) ?? ctx.type(0), shape: checkedMatmul(ctx, 0, 3) }]),
  /** Determinants of the trailing square matrices. */
  Det: op('T', 'T', {}, (ctx) => [{ elemType: ctx.type(0), shape: ctx.shape(0)?.slice(0, -2) }]),
  Einsum: op('T...', 'T', { equation: 'string' }, (ctx) => {
    const inputs = ctx.node.inputs.map((_, i) => ctx.shape(i));
    return [{ elemType: ctx.type(0), shape: einsumShape(ctx.node.getString('equation', ''), inputs) }];
  }),
};
