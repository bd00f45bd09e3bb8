import { constantSource } from '../../../ir/constants.js';
import type { NodeContext } from '../context.js';
import type { Labels } from '../state.js';
import { rule, type ChannelRuleTable } from './rule.js';

/**
 * Fused attention ops: onnxruntime's com.microsoft Attention, MultiHeadAttention, GroupQueryAttention and
 * RotaryEmbedding, and opset 23's Attention and RotaryEmbedding. Their unit is what the decomposed graph's Q·Kᵀ
 * makes it (rules/linear.ts): one head, or one KV group (a key/value head and the query heads that read it) when
 * several query heads share it. Every position of a unit's Q, K and V sections, and of its cache entries, is one
 * class, so heads go whole, the query heads per KV head stay an integer, and a rotary embedding (inside the op or a
 * RotaryEmbedding node) rotates the heads that remain exactly as before. The head-count attributes follow.
 */

/** Q, K and V along their hidden axes (each `heads` heads wide), as one attention op reads them. */
interface Sections {
  readonly q: Labels;
  readonly k: Labels;
  readonly v: Labels;
}

/** One label per query head and per KV head (their first position), after uniting each unit. */
interface HeadLabels {
  readonly query: Labels;
  readonly kv: Labels;
}

/**
 * Unites each KV group: key head g, value head g and query heads g·rep … (g+1)·rep − 1, every position of them.
 * Returns why it cannot when the sections do not split into the heads.
 */
function uniteGroups(ctx: NodeContext, s: Sections, heads: number, kvHeads: number): HeadLabels | string {
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads !== 0) return `${heads} query heads do not share ${kvHeads} KV heads evenly`;
  const [qd, kd, vd] = [s.q.length / heads, s.k.length / kvHeads, s.v.length / kvHeads];
  if (![qd, kd, vd].every((d) => Number.isInteger(d) && d > 0)) return `Q, K, V of ${s.q.length}, ${s.k.length}, ${s.v.length} features do not split into ${heads} / ${kvHeads} heads`;
  const rep = heads / kvHeads;
  const atoms = ctx.st.atoms;
  const query = new Int32Array(heads);
  const kv = new Int32Array(kvHeads);
  for (let g = 0; g < kvHeads; g++) {
    const anchor = s.k[g * kd]!;
    const join = (l: Labels, from: number, n: number) => { for (let i = from; i < from + n; i++) atoms.union(anchor, l[i]!); };
    join(s.k, g * kd, kd);
    join(s.v, g * vd, vd);
    for (let h = g * rep; h < (g + 1) * rep; h++) {
      join(s.q, h * qd, qd);
      query[h] = s.q[h * qd]!;
    }
    kv[g] = anchor;
  }
  return { query, kv };
}

/** The attention's common part once its units are known: cache inputs and outputs, head counts, what it records. */
function finish(ctx: NodeContext, h: HeadLabels, cache: { pastKey?: number; pastValue?: number; presentKey?: number; presentValue?: number }, attrs: { heads: string; kvHeads?: string }): void {
  for (const [input, output] of [[cache.pastKey, cache.presentKey], [cache.pastValue, cache.presentValue]] as const) {
    if (input !== undefined && ctx.input(input)) {
      const past = ctx.axes(input)?.get(1);
      if (!past) ctx.block(h.kv, `${ctx.where}: its cache input ${input} ('${ctx.input(input)!.name}') is not traced, so its KV heads cannot follow`);
      else ctx.unite(past, h.kv);
    }
    if (output !== undefined && ctx.output(output)) ctx.setOut(output, 1, h.kv);
  }
  ctx.edit({ kind: 'countAttr', node: ctx.node, attr: attrs.heads, labels: h.query, perUnit: 1 });
  if (attrs.kvHeads) ctx.edit({ kind: 'countAttr', node: ctx.node, attr: attrs.kvHeads, labels: h.kv, perUnit: 1 });
  ctx.st.heads.push({ node: ctx.node, labels: h.query });
}

/** Channels of input `i` on its last axis (rank 3), or undefined; channels on other axes are declined. */
function hidden(ctx: NodeContext, i: number): Labels | undefined {
  const axes = ctx.axes(i);
  if (!axes) return undefined;
  const rank = ctx.rank(ctx.input(i));
  let found: Labels | undefined;
  for (const [a, labels] of axes) {
    if (rank === 3 && a === 2) found = ctx.use(labels);
    else ctx.block(labels, `${ctx.where}: channels on axis ${a} of input ${i} (rank ${rank ?? 'unknown'}), not its hidden axis`);
  }
  return found;
}

/** Declines the channels of every input but `handled` (masks, sequence lengths, rotary caches carry none). */
function declineOthers(ctx: NodeContext, handled: readonly number[]): void {
  ctx.node.inputs.forEach((_, i) => {
    if (handled.includes(i)) return;
    for (const labels of ctx.axes(i)?.values() ?? []) ctx.block(labels, `${ctx.where}: channels reach input ${i}`);
  });
}

/** Q, K, V given as three inputs [b, s, heads·head_size]: all traced, or every traced one is declined. */
function separate(ctx: NodeContext, inputs: readonly [number, number, number]): Sections | undefined {
  const [q, k, v] = inputs.map((i) => hidden(ctx, i));
  if (q && k && v) return { q, k, v };
  const missing = inputs.filter((_, j) => ![q, k, v][j]).map((i) => `${i} ('${ctx.input(i)?.name ?? 'absent'}')`);
  for (const l of [q, k, v]) if (l) ctx.block(l, `${ctx.where}: input ${missing.join(', ')} is not traced, so its heads cannot follow`);
  return undefined;
}

/** A per-head operand [.., heads or 1, s, t] (attention bias, mask): sliced when it spans the heads. */
function perHeadBias(ctx: NodeContext, i: number, query: Labels): void {
  const s = ctx.shape(ctx.input(i));
  if (!ctx.input(i) || !s || s.length !== 4 || s[1] === 1) return;
  ctx.slice(i, 1, query);
}

/**
 * com.microsoft.GroupQueryAttention: packed QKV [b, s, (H + 2·KV)·d] (key and value absent) or separate Q, K, V;
 * past_key / past_value [b, KV, t, d] → present_key / present_value; output [b, s, H·d].
 */
function groupQueryAttention(ctx: NodeContext): void {
  const heads = ctx.node.getInt('num_heads', 0);
  const kvHeads = ctx.node.getInt('kv_num_heads', 0);
  const packed = !ctx.input(1);
  let s: Sections | undefined;
  if (packed) {
    const qkv = hidden(ctx, 0);
    if (!qkv) return declineOthers(ctx, [0]);
    const d = qkv.length / (heads + 2 * kvHeads);
    s = { q: qkv.slice(0, heads * d), k: qkv.slice(heads * d, (heads + kvHeads) * d), v: qkv.slice((heads + kvHeads) * d) };
  } else {
    s = separate(ctx, [0, 1, 2]);
  }
  declineOthers(ctx, [0, 1, 2, 3, 4]);
  if (!s) return;
  const h = uniteGroups(ctx, s, heads, kvHeads);
  if (typeof h === 'string') return blockAll(ctx, s, h);
  ctx.setOut(0, 2, s.q);
  finish(ctx, h, { pastKey: 3, pastValue: 4, presentKey: 1, presentValue: 2 }, { heads: 'num_heads', kvHeads: 'kv_num_heads' });
}

/**
 * com.microsoft.MultiHeadAttention: Q, K, V [b, s, H·d] with an optional packed bias [3·H·d]; attention_bias
 * [.., H or 1, s, t]; past_key / past_value [b, H, t, d] → present_key / present_value; output [b, s, H·d_v].
 */
function multiHeadAttention(ctx: NodeContext): void {
  const heads = ctx.node.getInt('num_heads', 0);
  const s = ctx.input(1) && ctx.input(2) ? separate(ctx, [0, 1, 2]) : undefined;
  if (!s) {
    const q = ctx.axes(0);
    if (q && !(ctx.input(1) && ctx.input(2))) ctx.declineAll(`${ctx.where}: packed QKV layout (no separate key and value) is not supported`);
    return declineOthers(ctx, [0, 1, 2]);
  }
  declineOthers(ctx, [0, 1, 2, 3, 5, 6, 7]);
  const h = uniteGroups(ctx, s, heads, heads);
  if (typeof h === 'string') return blockAll(ctx, s, h);
  if (ctx.input(3)) ctx.slice(3, 0, concatLabels([s.q, s.k, s.v]));
  perHeadBias(ctx, 5, h.query);
  ctx.setOut(0, 2, s.v);
  finish(ctx, h, { pastKey: 6, pastValue: 7, presentKey: 1, presentValue: 2 }, { heads: 'num_heads' });
}

/**
 * com.microsoft.Attention: input [b, s, hidden] times a constant packed weight [hidden, q + k + v] (sections
 * `qkv_hidden_sizes`, default equal) plus bias: a consumer of the hidden channels and the root of the QKV features,
 * whose units are heads (each head's q, k and v columns); output [b, s, v].
 */
function fusedAttention(ctx: NodeContext): void {
  const heads = ctx.node.getInt('num_heads', 0);
  const w = constantSource(ctx.input(1))?.tensor.dims;
  if (!w || w.length !== 2) {
    ctx.declineAll(`${ctx.where}: the packed QKV weight is not a constant matrix`);
    return;
  }
  const n = w[1]!;
  const sizes = ctx.node.getInts('qkv_hidden_sizes') ?? [n / 3, n / 3, n / 3];
  ctx.consume(0, 2, 1, 0);
  for (const [a, labels] of ctx.axes(0) ?? []) if (a !== 2) ctx.block(labels, `${ctx.where}: channels on axis ${a}, not the hidden axis`);
  declineOthers(ctx, [0]);
  const labels = ctx.weightRoot(n, 1, 1);
  if (ctx.input(2)) ctx.slice(2, 0, labels);
  const [q, k] = sizes as [number, number, number];
  const s = { q: labels.slice(0, q), k: labels.slice(q, q + k), v: labels.slice(q + k) };
  const h = uniteGroups(ctx, s, heads, heads);
  if (typeof h === 'string') return blockAll(ctx, s, h);
  if (ctx.input(4)) ctx.block(labels, `${ctx.where}: the packed past / present cache [2, b, H, t, d] is not supported`);
  perHeadBias(ctx, 5, h.query);
  ctx.setOut(0, 2, s.v, 'producer');
  finish(ctx, h, {}, { heads: 'num_heads' });
  if (ctx.node.getInts('qkv_hidden_sizes')) ctx.edit({ kind: 'sizesAttr', node: ctx.node, attr: 'qkv_hidden_sizes', parts: [s.q, s.k, s.v] });
}

/**
 * ONNX 23 Attention with 3-D Q [b, s, q_heads·d], K / V [b, t, kv_heads·d] (`q_num_heads`, `kv_num_heads`); attn_mask
 * [.., q_heads or 1, s, t]; past_key / past_value [b, kv_heads, t, d] → present_key / present_value;
 * qk_matmul_output [b, q_heads, s, t].
 */
function onnxAttention(ctx: NodeContext): void {
  if (ctx.rank(ctx.input(0)) !== 3) {
    if (ctx.trackedInputs().length) ctx.declineAll(`${ctx.where}: 4-D (per head) inputs are not supported`);
    return;
  }
  const s = separate(ctx, [0, 1, 2]);
  declineOthers(ctx, [0, 1, 2, 3, 4, 5]);
  if (!s) return;
  const h = uniteGroups(ctx, s, ctx.node.getInt('q_num_heads', 0), ctx.node.getInt('kv_num_heads', 0));
  if (typeof h === 'string') return blockAll(ctx, s, h);
  perHeadBias(ctx, 3, h.query);
  const qHead = s.q.length / h.query.length;
  const vHead = s.v.length / h.kv.length;
  ctx.setOut(0, 2, repeatEach(h.query, vHead, qHead === vHead ? s.q : undefined));
  if (ctx.output(3)) ctx.setOut(3, 1, h.query);
  finish(ctx, h, { pastKey: 4, pastValue: 5, presentKey: 1, presentValue: 2 }, { heads: 'q_num_heads', kvHeads: 'kv_num_heads' });
}

/**
 * RotaryEmbedding (com.microsoft and opset 23): rotates each head of [b, s, N·d] (3-D, `num_heads`) or of a 4-D
 * tensor with the heads on axis 2 (com.microsoft [b, s, N, d]) or axis 1 (ONNX [b, N, s, d]). Whole heads pass and
 * `num_heads` follows; a channel axis inside a head is declined (the rotation pairs its dims).
 */
function rotaryEmbedding(headsAxis4d: number) {
  return (ctx: NodeContext): void => {
    const rank = ctx.rank(ctx.input(0));
    const heads = ctx.node.getInt('num_heads', 0);
    declineOthers(ctx, [0]);
    for (const [a, labels] of ctx.axes(0) ?? []) {
      if (rank === 3 && a === 2) {
        if (heads <= 0 || labels.length % heads !== 0) {
          ctx.block(labels, `${ctx.where}: ${labels.length} features with num_heads ${heads || 'not given'}: the heads are unknown`);
          continue;
        }
        const d = labels.length / heads;
        ctx.use(labels);
        for (let h = 0; h < heads; h++) ctx.st.uniteAll(labels, h * d, (h + 1) * d);
        ctx.setOut(0, a, labels);
        ctx.edit({ kind: 'countAttr', node: ctx.node, attr: 'num_heads', labels, perUnit: d });
      } else if (rank === 4 && a === 3) {
        ctx.block(labels, `${ctx.where}: rotary embedding inside a head: pruning head_dim would have to drop matched frequency pairs`);
      } else {
        ctx.setOut(0, a, labels);
        if (rank === 4 && a === headsAxis4d && heads > 0) ctx.edit({ kind: 'countAttr', node: ctx.node, attr: 'num_heads', labels, perUnit: 1 });
      }
    }
  };
}

/** Declines every section (the op's heads cannot be made units). */
function blockAll(ctx: NodeContext, s: Sections, why: string): void {
  for (const l of [s.q, s.k, s.v]) ctx.block(l, `${ctx.where}: ${why}`);
}

function concatLabels(parts: readonly Labels[]): Labels {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `same` when given (Y's features are Q's when the value head is as wide), else each head's label `width` times. */
function repeatEach(perHead: Labels, width: number, same?: Labels): Labels {
  if (same) return same;
  const out = new Int32Array(perHead.length * width);
  perHead.forEach((l, h) => out.fill(l, h * width, (h + 1) * width));
  return out;
}

export const attentionRules: ChannelRuleTable = {
  Attention: rule('ONNX 23 attention: units are KV groups of q_num_heads / kv_num_heads; cache shapes and head counts follow', onnxAttention),
  RotaryEmbedding: rule('rotates whole heads: heads pass, num_heads follows; declined inside a head', rotaryEmbedding(1)),
};

export const microsoftAttentionRules: ChannelRuleTable = {
  Attention: rule('packed QKV weight: consumer of the hidden channels, root of heads (q, k, v columns); num_heads and qkv_hidden_sizes follow', fusedAttention),
  MultiHeadAttention: rule('units are heads of Q, K, V (and the bias sections, the cache); num_heads follows', multiHeadAttention),
  GroupQueryAttention: rule('units are KV groups of num_heads / kv_num_heads (packed or separate Q, K, V, the cache); head counts follow', groupQueryAttention),
  RotaryEmbedding: rule('rotates whole heads: heads pass, num_heads follows; declined inside a head', rotaryEmbedding(2)),
};
