import { constantSource } from '../../../ir/constants.js';
import type { NodeContext } from '../context.js';
import type { Labels } from '../state.js';
import { rule, type ChannelRuleTable } from './rule.js';

/**
 * Gemm: Y = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A, B' = transB ? Bᵀ : B. With a constant B it is a root
 * (output features = B' columns) and a consumer of A's features (B' rows); C is sliced where it spans the features.
 */
function gemm(ctx: NodeContext): void {
  const transA = ctx.node.getInt('transA', 0) === 1;
  const transB = ctx.node.getInt('transB', 0) === 1;
  const aK = transA ? 0 : 1;
  const aM = 1 - aK;
  const bDims = constantSource(ctx.input(1))?.tensor.dims;
  const aAxes = ctx.axes(0);
  const outM = aAxes?.get(aM);
  if (outM) ctx.setOut(0, 0, outM);
  let outN: Labels | undefined;
  if (bDims) {
    ctx.consume(0, aK, 1, transB ? 1 : 0);
    outN = ctx.root(0, 1, bDims[transB ? 0 : 1]!, 1, transB ? 0 : 1);
  } else {
    outN = contract(ctx, aAxes?.get(aK), ctx.axes(1)?.get(transB ? 1 : 0), ctx.axes(1)?.get(transB ? 0 : 1));
  }
  const c = ctx.input(2);
  const cShape = ctx.shape(c);
  if (c && cShape) {
    // C broadcasts to [M, N] (unidirectionally): slice it where it spans a channel axis.
    const spans = (labels: Labels | undefined, outAxis: number) => {
      const a = outAxis - (2 - cShape.length);
      if (!labels || a < 0 || cShape[a] === 1) return;
      ctx.slice(2, a, labels);
    };
    spans(outM, 0);
    spans(outN, 1);
  } else if (c) {
    for (const l of [outM, outN]) if (l) ctx.block(l, `${ctx.where}: the shape of C is unknown`);
  }
}

/**
 * MatMul. With a constant rank-2 weight [K, N] it is a root of N output features and a consumer of the input's last
 * axis. Between two activations (attention) it is a batched contraction: the K axes are coupled, M and N pass
 * through, batch axes broadcast like elementwise ops.
 */
function matmul(ctx: NodeContext): void {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const ra = ctx.rank(a);
  const rb = ctx.rank(b);
  if (ra === undefined || rb === undefined || ra < 2 || rb < 2) {
    if (ctx.trackedInputs().length) ctx.declineAll(`${ctx.where}: operand ranks unknown or below 2`);
    return;
  }
  const R = Math.max(ra, rb);
  const bSrc = constantSource(b);
  if (bSrc && rb === 2) {
    for (const [axis, labels] of ctx.axes(0) ?? []) if (axis < ra - 1) ctx.setOut(0, axis + R - ra, labels);
    ctx.consume(0, ra - 1, 1, 0);
    ctx.root(0, R - 1, bSrc.tensor.dims[1]!, 1, 1);
    return;
  }
  if (constantSource(a) && ctx.axes(1)) {
    ctx.declineAll(`${ctx.where}: a constant left operand is not supported`);
    return;
  }
  const aAxes = ctx.axes(0);
  const bAxes = ctx.axes(1);
  // Batch axes broadcast as in elementwise ops.
  const batch = new Map<number, Labels>();
  const meet = (labels: Labels, k: number) => {
    const seen = batch.get(k);
    if (!seen) batch.set(k, labels);
    else if (seen.length === labels.length) ctx.unite(seen, labels);
    else ctx.block(labels, `${ctx.where}: batch axes of ${seen.length} and ${labels.length} meet`);
  };
  for (const [axis, labels] of aAxes ?? []) if (axis < ra - 2) meet(labels, axis + R - ra);
  for (const [axis, labels] of bAxes ?? []) {
    if (axis >= rb - 2) continue;
    // Heads on a batch axis of both operands: attention scores (Q·Kᵀ) or their use (P·V). Query head h meets the
    // key / value head at position h, which repeat_kv made KV head h // n_rep: one KV group is one unit.
    const k = axis + R - rb;
    const query = batch.get(k);
    if (query && !ctx.st.heads.some((h) => h.labels === query)) ctx.st.heads.push({ node: ctx.node, labels: query });
    meet(labels, k);
  }
  for (const [k, labels] of batch) {
    for (const [v, r, axes] of [[a, ra, aAxes], [b, rb, bAxes]] as const) {
      const ax = k - (R - r);
      if (ax < 0 || axes?.has(ax)) continue;
      const d = v!.shape![ax];
      if (d !== 1) ctx.block(labels, `${ctx.where}: an untracked operand has ${d ?? 'an unknown size'} on a channel batch axis`);
    }
    ctx.setOut(0, k, labels);
  }
  const m = aAxes?.get(ra - 2);
  if (m) ctx.setOut(0, R - 2, m);
  contract(ctx, aAxes?.get(ra - 1), bAxes?.get(rb - 2), bAxes?.get(rb - 1), R - 1);
}

/** Couples the contracted axes of two activations and passes the right operand's output axis through. */
function contract(ctx: NodeContext, aK: Labels | undefined, bK: Labels | undefined, bN: Labels | undefined, outAxis = 1): Labels | undefined {
  if (aK && bK) {
    if (aK.length === bK.length) ctx.unite(aK, bK);
    else ctx.block(aK, `${ctx.where}: contracted axes differ`);
    ctx.touch('through', aK);
  } else if (aK || bK) {
    ctx.block((aK ?? bK)!, `${ctx.where}: contracts channels with an operand that is neither a constant nor traced`);
  }
  if (bN) ctx.setOut(0, outAxis, bN);
  return bN;
}

export const linearRules: ChannelRuleTable = {
  Gemm: rule('root of output features (constant B), consumer of input features; C sliced', gemm),
  MatMul: rule('constant [K,N] weight: root and consumer; two activations: batched contraction couples K', matmul),
};

/**
 * com.microsoft.MatMulNBits: weights quantized to `bits` in blocks of `block_size` along the input features. Its
 * output rows could be sliced exactly, but its input features cannot without requantizing: declined with the reason.
 */
function matMulNBits(ctx: NodeContext): void {
  const bits = ctx.node.getInt('bits', 4);
  ctx.declineAll(`${ctx.where}: int${bits} weights (blocks of ${ctx.node.getInt('block_size', 0)} input features) are not supported yet; pruning them needs requantization`);
}

export const microsoftLinearRules: ChannelRuleTable = {
  MatMulNBits: rule('quantized weights: declined (not supported yet)', matMulNBits),
};
