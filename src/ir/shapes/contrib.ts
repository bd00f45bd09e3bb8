import { DataType } from '../dtype.js';
import type { Dim, Shape } from '../value.js';
import { op, type OutputInfo, type RuleTable, type ShapeRule } from './context.js';
import { isKnown, normalizeAxis, sumDims } from './dims.js';

/**
 * Signatures and shape rules of the fused transformer ops decoder exports use: onnxruntime's contrib ops
 * (`com.microsoft`, as its transformer optimizer and model builder write them; SimplifiedLayerNormalization in the
 * default domain, where the model builder puts it) and opset 23's Attention, RMSNormalization and RotaryEmbedding.
 * Signatures and shapes as onnxruntime's contrib op schemas (docs/ContribOperators.md, the union of their versions)
 * and the ONNX spec state them; a size they cannot determine is unknown, never guessed.
 */

/** The float types the fused ops take. */
const FLOATS = 'float|float16|bfloat16';

const sameAsInput: ShapeRule = (ctx) => [{ elemType: ctx.type(0), shape: ctx.shape(0) }];

/** `x` with the axes from `axis` on set to 1: the per-position statistics of a normalization. */
function statistics(x: Shape | undefined, axis: number): Shape | undefined {
  const a = x ? normalizeAxis(axis, x.length) : undefined;
  return x && a !== undefined ? x.map((d, i) => (i < a ? d : 1)) : undefined;
}

/** d / n when d is a known multiple of n; unknown otherwise. */
function divide(d: Dim | undefined, n: number): Dim {
  return isKnown(d) && n > 0 && d % n === 0 ? d / n : null;
}

function times(d: Dim | undefined, n: number): Dim {
  return isKnown(d) ? d * n : null;
}

/** LayerNorm-style ops: Y like X; mean / inv_std_var over the normalized axes (float, as the stash type). */
function normalization(statOutputs: readonly number[], sumOutput?: number): ShapeRule {
  return (ctx) => {
    const x = ctx.shape(0);
    const stats = { elemType: DataType.FLOAT, shape: statistics(x, ctx.int('axis', -1)) };
    const out: (OutputInfo | undefined)[] = [{ elemType: ctx.type(0), shape: x }];
    for (const o of statOutputs) out[o] = stats;
    if (sumOutput !== undefined) out[sumOutput] = { elemType: ctx.type(0), shape: x };
    return out;
  };
}

/** The cache a fused attention returns: the past [b, heads, past, head_size] grown by `added` positions. */
function present(past: Shape | undefined, batch: Dim, heads: Dim, added: Dim, headSize: Dim): Shape {
  const total = past ? sumDims([past[2]!, added]) : added;
  return [batch, past?.[1] ?? heads, total, past?.[3] ?? headSize];
}

/**
 * com.microsoft.Attention: input [b, s, hidden] times the packed weight [hidden, q + k + v] (sections
 * `qkv_hidden_sizes`, default three equal); output [b, s, v]; present [2, b, num_heads, past + s, head_size].
 */
const attention: ShapeRule = (ctx) => {
  const x = ctx.shape(0);
  const w = ctx.shape(1);
  const heads = ctx.int('num_heads', 0);
  const sizes = ctx.ints('qkv_hidden_sizes');
  const v = sizes?.length === 3 ? sizes[2]! : divide(w?.[1], 3);
  const elemType = ctx.type(0);
  const output: OutputInfo = { elemType, shape: x && x.length === 3 ? [x[0]!, x[1]!, v] : undefined };
  const past = ctx.has(4) ? ctx.shape(4) : undefined;
  if (!past || past.length !== 5 || !x) return [output];
  return [output, { elemType, shape: [2, ...present(past.slice(1), x[0]!, heads, x[1]!, divide(v, heads))] }];
};

/**
 * com.microsoft.MultiHeadAttention: query [b, s, hidden] (or packed QKV [b, s, H, 3, head_size] without key and
 * value); key / value [b, kv_s, hidden] or already per head [b, H, kv_s, head_size]; output [b, s, v_hidden];
 * present_key / present_value [b, H, past + kv_s, head_size].
 */
const multiHeadAttention: ShapeRule = (ctx) => {
  const q = ctx.shape(0);
  const k = ctx.has(1) ? ctx.shape(1) : undefined;
  const v = ctx.has(2) ? ctx.shape(2) : undefined;
  const heads = ctx.int('num_heads', 0);
  const elemType = ctx.type(0);
  if (!q) return [{ elemType }];
  const packed = q.length === 5;
  const vHidden = packed ? times(q[4], heads) : v?.length === 3 ? v[2]! : v?.length === 4 ? times(v[3], heads) : !ctx.has(2) ? q[2]! : null;
  const out: OutputInfo[] = [{ elemType, shape: [q[0]!, q[1]!, vHidden] }];
  const kvSeq = packed ? q[1]! : k?.length === 3 ? k[1]! : null;
  const qHead = packed ? q[4]! : divide(q[2], heads);
  const vHead = packed ? q[4]! : divide(vHidden, heads);
  for (const [o, pastAt, head] of [[1, 6, qHead], [2, 7, vHead]] as const) {
    if (!ctx.has(pastAt) && !(ctx.node.outputs[o])) continue;
    // Key / value given per head [b, H, t, head_size] are used as they are (cross attention): present is them.
    const given = o === 1 ? k : v;
    out[o] = { elemType, shape: given?.length === 4 ? given : present(ctx.has(pastAt) ? ctx.shape(pastAt) : undefined, q[0]!, heads, kvSeq, head) };
  }
  return out;
};

/**
 * com.microsoft.GroupQueryAttention: query [b, s, d] holding packed Q, K, V (d = (H + 2·KV)·head_size) when key and
 * value are absent, else Q alone (d = H·head_size); output [b, s, H·head_size]; present_key / present_value
 * [b, KV, present_length, head_size] (the past buffer's length when it is shared, else past + s: unknown here
 * unless the past is empty of symbols).
 */
const groupQueryAttention: ShapeRule = (ctx) => {
  const q = ctx.shape(0);
  const heads = ctx.int('num_heads', 0);
  const kvHeads = ctx.int('kv_num_heads', 0);
  const elemType = ctx.type(0);
  if (!q || q.length !== 3) return [{ elemType }];
  const head = ctx.has(1) ? divide(q[2], heads) : divide(q[2], heads + 2 * kvHeads);
  const out: OutputInfo[] = [{ elemType, shape: [q[0]!, q[1]!, times(head, heads)] }];
  for (const [o, pastAt] of [[1, 3], [2, 4]] as const) {
    const past = ctx.has(pastAt) ? ctx.shape(pastAt) : undefined;
    const length = past && isKnown(past[2]) && isKnown(q[1]) ? Math.max(past[2], q[1]) : null;
    out[o] = { elemType, shape: [q[0]!, past?.[1] ?? kvHeads, length, past?.[3] ?? head] };
  }
  return out;
};

/**
 * ONNX 23 Attention: Q [b, s, q_num_heads·head] (or [b, q_heads, s, head]), K / V [b, t, kv_num_heads·head] (or
 * 4-D); Y [b, s, q_heads·v_head] (4-D in, 4-D out); present_key / present_value [b, kv_heads, past + t, head];
 * qk_matmul_output [b, q_heads, s, past + t].
 */
const onnxAttention: ShapeRule = (ctx) => {
  const q = ctx.shape(0);
  const k = ctx.shape(1);
  const v = ctx.shape(2);
  const elemType = ctx.type(0);
  if (!q || !k || !v) return [{ elemType }];
  const threeD = q.length === 3;
  const qHeads = threeD ? ctx.int('q_num_heads', 0) : q[1]!;
  const kvHeads = k.length === 3 ? ctx.int('kv_num_heads', 0) : k[1]!;
  const kHead = k.length === 3 ? divide(k[2], kvHeads as number) : k[3]!;
  const vHead = v.length === 3 ? divide(v[2], kvHeads as number) : v[3]!;
  const seq = threeD ? q[1]! : q[2]!;
  const added = k.length === 3 ? k[1]! : k[2]!;
  const y: Shape = threeD ? [q[0]!, seq, isKnown(qHeads) ? times(vHead, qHeads) : null] : [q[0]!, qHeads, seq, vHead];
  const presentKey = present(ctx.has(4) ? ctx.shape(4) : undefined, q[0]!, kvHeads, added, kHead);
  const presentValue = present(ctx.has(5) ? ctx.shape(5) : undefined, q[0]!, kvHeads, added, vHead);
  return [{ elemType, shape: y }, { elemType, shape: presentKey }, { elemType, shape: presentValue }, { elemType, shape: [q[0]!, qHeads, seq, presentKey[2]!] }];
};

/** com.microsoft.MatMulNBits: A [..., K] times the quantized [K, N] (attribute N): [..., N]. */
const matMulNBits: ShapeRule = (ctx) => {
  const a = ctx.shape(0);
  return [{ elemType: ctx.type(0), shape: a && a.length ? [...a.slice(0, -1), ctx.int('N', 0) || null] : undefined }];
};

/** Fused ops of the default domain: opset 23's, and SimplifiedLayerNormalization where the model builder writes it. */
export const defaultDomainContribRules: RuleTable = {
  Attention: op(`T1=${FLOATS}|double T1 T2=${FLOATS}|double U? T1? T2? int64?`, 'T1 T1? T2? T1?', {
    is_causal: 'int', kv_num_heads: 'int', q_num_heads: 'int', qk_matmul_output_mode: 'int', scale: 'float', softcap: 'float', softmax_precision: 'int',
  }, onnxAttention),
  RMSNormalization: op(`T=${FLOATS}|double V=${FLOATS}|double`, 'V', { axis: 'int', epsilon: 'float', stash_type: 'int' }, sameAsInput),
  RotaryEmbedding: op(`T=${FLOATS} T T M=int64?`, 'T', { interleaved: 'int', num_heads: 'int', rotary_embedding_dim: 'int' }, sameAsInput),
  // onnxruntime's schema allows attributes it does not list.
  SimplifiedLayerNormalization: op(`T=${FLOATS}|double V=${FLOATS}|double`, 'V U?', { axis: 'int', epsilon: 'float', stash_type: 'int' }, normalization([1]), { uncheckedAttributes: true }),
};

/** The attributes onnxruntime's fused attentions share. */
const ATTENTION_ATTRS = { num_heads: 'int', scale: 'float', mask_filter_value: 'float', unidirectional: 'int' } as const;

/** onnxruntime's contrib ops. */
export const microsoftRules: RuleTable = {
  Attention: op(`T=${FLOATS} T T? M=int32? T? T? M?`, 'T T?', {
    ...ATTENTION_ATTRS, do_rotary: 'int', past_present_share_buffer: 'int', qkv_hidden_sizes: 'ints', rotary_embedding_dim: 'int',
  }, attention),
  MultiHeadAttention: op(`T=${FLOATS} T? T? T? M=int32? T? T? T? M? M?`, 'T T? T? T?', ATTENTION_ATTRS, multiHeadAttention),
  // Inputs 5 and 6 (seqlens_k, total_sequence_length) are required after five optional ones (key, value, the cache).
  GroupQueryAttention: op(`T=${FLOATS} T? T? C=${FLOATS}|uint8|int8|float8e4m3fn? C? M=int32 M T? T? int64? T? T? S=float? S? T? T?`, 'T C? C? T?', {
    num_heads: 'int', kv_num_heads: 'int', scale: 'float', softcap: 'float', local_window_size: 'int', do_rotary: 'int', rotary_interleaved: 'int',
    smooth_softmax: 'int', qk_output: 'int', causal: 'int', qk_norm_epsilon: 'float', sliding_window_cache: 'int',
    k_quant_type: 'string', v_quant_type: 'string', kv_cache_bit_width: 'int', is_past_bsnh: 'int', unidirectional: 'int',
  }, groupQueryAttention),
  RotaryEmbedding: op(`T=${FLOATS} M=int64 T T`, 'T', { interleaved: 'int', is_packed_batching: 'int', num_heads: 'int', rotary_embedding_dim: 'int', scale: 'float' }, sameAsInput),
  SkipLayerNormalization: op(`T=${FLOATS} T T T? T?`, 'T U? U? T?', { epsilon: 'float' }, normalization([1, 2], 3)),
  SkipSimplifiedLayerNormalization: op(`T=${FLOATS} T T T?`, 'T U? U? T?', { epsilon: 'float' }, normalization([1, 2], 3)),
  FastGelu: op(`T=${FLOATS}|double T?`, 'T', {}, sameAsInput),
  MatMulNBits: op(`T1=${FLOATS} T2=uint8 T1 T3=uint8|${FLOATS}? T4=int32? T1?`, 'T1', {
    K: 'int', N: 'int', bits: 'int', block_size: 'int', accuracy_level: 'int', weight_prepacked: 'int',
  }, matMulNBits),
};
