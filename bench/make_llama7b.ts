/**
 * A Llama-2-7B-shaped decoder for the LLM-scale benches (issue 11): hidden 4096, 32 heads, 8 KV heads (GQA, 4 query
 * heads per group), head_dim 128, FFN 11008 (SwiGLU), vocab 32000, N layers, float16 everywhere, weights in external
 * data. Generated deterministically at bench time into the git-ignored bench/out/ (never committed):
 *
 *     npx tsx bench/make_llama7b.ts --layers 2 [--out bench/out/llama7b_2l.onnx] [--force]
 *
 * The graph is the one Debian torch 1.13 exports from transformers' Llama with a KV cache (as
 * fixtures/decoders/llama_cache.onnx, which test/decoders checks in onnxruntime): token Gather, RMSNorm as
 * Cast/Pow/ReduceMean/Add/Sqrt/Div/Mul/Cast/Mul in float32, q/k/v MatMul, Reshape to [b, s, heads, 128] with the
 * shape from Shape→Gather→Unsqueeze→Concat, rotary cos/sin tables gathered by position_ids and applied as
 * Slice/Neg/Concat/Mul/Add, Concat with past_key_values.{i}.key|value → present.{i}.key|value, repeat_kv as
 * Unsqueeze/Expand/Reshape with Shape-derived sizes (the Expand shape a plain Concat of Shape reads, where torch wraps
 * it in Reshape(−1)/Equal/Where), softmax in float32, SwiGLU, untied LM head.
 *
 * Written streaming: each weight is generated (uniform ±1/√fan_in from a PRNG seeded by its name; norm weights in
 * [0.5, 1.5]), converted to float16 and appended to `<out>.data` in 8 MiB chunks, so memory stays at one chunk plus
 * the graph whatever N is. Same arguments, same bytes.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProtoSchema, TensorProto_DataLocation as DataLocation } from 'onnx-buf';
import { ModelBuilder } from '../src/ir/builder.js';
import { DataType, floatToHalf } from '../src/ir/dtype.js';
import { mulberry32 } from '../src/ir/random.js';
import { encodeModel } from '../src/ir/save.js';
import { Tensor } from '../src/ir/tensor.js';
import type { Value } from '../src/ir/value.js';

export const LLAMA2_7B = { hidden: 4096, heads: 32, kvHeads: 8, headDim: 128, ffn: 11008, vocab: 32000, maxPositions: 4096, eps: 1e-5, theta: 10000 };

const CHUNK = 4 << 20; // elements per write (8 MiB of float16)
const F16 = DataType.FLOAT16;
const F32 = DataType.FLOAT;

/** FNV-1a of a name: the seed of its tensor, so tensors are independent of generation order. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Appends float16 tensors to one side file and returns the external-data TensorProtos that point at them. */
class SideFile {
  private offset = 0;
  private readonly fd: number;

  constructor(readonly path: string, readonly location: string) {
    this.fd = openSync(path, 'w');
  }

  /** `fill(out, from)` writes elements [from, from + out.length) as float32; stored as float16, 64-byte aligned. */
  tensor(name: string, dims: number[], fill: (out: Float32Array, from: number) => void): Tensor {
    const numel = dims.reduce((a, b) => a * b, 1);
    const pad = (64 - (this.offset % 64)) % 64;
    if (pad) writeSync(this.fd, new Uint8Array(pad));
    this.offset += pad;
    const start = this.offset;
    const f32 = new Float32Array(Math.min(CHUNK, numel));
    const half = new Uint16Array(f32.length);
    for (let from = 0; from < numel; from += CHUNK) {
      const n = Math.min(CHUNK, numel - from);
      const block = f32.subarray(0, n);
      fill(block, from);
      for (let i = 0; i < n; i++) half[i] = floatToHalf(block[i]!);
      writeSync(this.fd, new Uint8Array(half.buffer, 0, 2 * n));
    }
    this.offset += 2 * numel;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    return new Tensor(create(TensorProtoSchema, {
      name, dims: dims.map(BigInt), dataType: F16, dataLocation: DataLocation.EXTERNAL,
      externalData: [entry('location', this.location), entry('offset', String(start)), entry('length', String(2 * numel))],
    }));
  }

  close(): number {
    closeSync(this.fd);
    return this.offset;
  }
}

/** The graph, built with the project's builder; float weights go to the side file, small integer vectors inline. */
class Llama7b {
  readonly b = new ModelBuilder(14);
  private readonly cfg = LLAMA2_7B;

  constructor(private readonly side: SideFile) {}

  private weight(name: string, dims: number[], fill: (out: Float32Array, from: number) => void): Value {
    return this.b.graph.addInitializer(this.side.tensor(name, dims, fill));
  }

  /** Uniform ±1/√fanIn (torch's nn.Linear default), seeded by the name. */
  linear(name: string, fanIn: number, fanOut: number): Value {
    const r = mulberry32(seedOf(name));
    const bound = 1 / Math.sqrt(fanIn);
    return this.weight(name, [fanIn, fanOut], (out) => { for (let i = 0; i < out.length; i++) out[i] = (r() * 2 - 1) * bound; });
  }

  vector(name: string, n: number): Value {
    const r = mulberry32(seedOf(name));
    return this.weight(name, [n], (out) => { for (let i = 0; i < out.length; i++) out[i] = 0.5 + r(); });
  }

  op(op: string, name: string, inputs: (Value | null)[], attrs: Record<string, number | number[]> = {}): Value {
    return this.b.op(op, inputs, attrs, { name });
  }

  ints(name: string, values: number[], dims: number[] = [values.length]): Value {
    return this.b.int64(name, values, dims);
  }

  scalar(name: string, v: number, type: number): Value {
    return this.b.graph.addInitializer(Tensor.fromFloat32(name, [], Float32Array.of(v), type));
  }

  /** Gather(Shape(x), axis): one Shape-derived size (a scalar), as TorchScript writes x.size(axis). */
  size(x: Value, axis: number, name: string): Value {
    const g = this.op('Gather', `${name}/Gather`, [this.op('Shape', `${name}/Shape`, [x]), this.ints(`${name}.index`, [axis], [])], { axis: 0 });
    return g;
  }

  unsq(x: Value, name: string): Value {
    return this.op('Unsqueeze', name, [x, this.ints(`${name}.axes`, [0])]);
  }

  rmsNorm(x: Value, weight: Value, name: string): Value {
    const xf = this.op('Cast', `${name}/Cast`, [x], { to: F32 });
    const variance = this.op('ReduceMean', `${name}/ReduceMean`, [this.op('Pow', `${name}/Pow`, [xf, this.scalar(`${name}.two`, 2, F32)])], { axes: [-1], keepdims: 1 });
    const inv = this.op('Div', `${name}/Div`, [this.scalar(`${name}.one`, 1, F32), this.op('Sqrt', `${name}/Sqrt`, [this.op('Add', `${name}/Add`, [variance, this.scalar(`${name}.eps`, this.cfg.eps, F32)])])]);
    const normed = this.op('Cast', `${name}/Cast_1`, [this.op('Mul', `${name}/Mul`, [xf, inv])], { to: F16 });
    return this.op('Mul', `${name}/Mul_1`, [weight, normed]);
  }

  /** [b, s, heads·128] → [b, heads, s, 128] with the shape Concat(b, s, heads, 128). */
  heads(x: Value, b: Value, s: Value, heads: number, name: string): Value {
    const shape = this.op('Concat', `${name}/Concat`, [this.unsq(b, `${name}/Unsqueeze`), this.unsq(s, `${name}/Unsqueeze_1`), this.ints(`${name}.heads`, [heads]), this.ints(`${name}.head_dim`, [this.cfg.headDim])], { axis: 0 });
    return this.op('Transpose', `${name}/Transpose`, [this.op('Reshape', `${name}/Reshape`, [x, shape])], { perm: [0, 2, 1, 3] });
  }

  /** x·cos + rotate_half(x)·sin, rotate_half by Slices at Shape(x)[3] / 2. */
  rope(x: Value, cos: Value, sin: Value, name: string): Value {
    const half = this.unsq(this.op('Div', `${name}/Div`, [this.size(x, 3, `${name}/hd`), this.ints(`${name}.two`, [2], [])]), `${name}/Unsqueeze`);
    const axis = this.ints(`${name}.axis`, [3]);
    const first = this.op('Slice', `${name}/Slice`, [x, this.ints(`${name}.zero`, [0]), half, axis]);
    const second = this.op('Slice', `${name}/Slice_1`, [x, half, this.ints(`${name}.end`, [2 ** 62]), axis]);
    const rotated = this.op('Concat', `${name}/Concat`, [this.op('Neg', `${name}/Neg`, [second]), first], { axis: -1 });
    return this.op('Add', `${name}/Add`, [this.op('Mul', `${name}/Mul`, [x, cos]), this.op('Mul', `${name}/Mul_1`, [rotated, sin])]);
  }

  /** [b, kv, t, d] → [b, kv·rep, t, d]: Unsqueeze, Expand to [b, kv, rep, t, d], Reshape, every size from Shape(x). */
  repeatKv(x: Value, rep: number, name: string): Value {
    const [b, kv, t, d] = [0, 1, 2, 3].map((a) => this.size(x, a, `${name}/size${a}`)) as [Value, Value, Value, Value];
    const u = (v: Value, k: string) => this.unsq(v, `${name}/Unsqueeze_${k}`);
    const expandShape = this.op('Concat', `${name}/Concat`, [u(b, 'b'), u(kv, 'kv'), this.ints(`${name}.rep`, [rep]), u(t, 't'), u(d, 'd')], { axis: 0 });
    const expanded = this.op('Expand', `${name}/Expand`, [this.op('Unsqueeze', `${name}/Unsqueeze`, [x, this.ints(`${name}.axes`, [2])]), expandShape]);
    const merged = this.op('Mul', `${name}/Mul`, [kv, this.ints(`${name}.rep_scalar`, [rep], [])]);
    const shape = this.op('Concat', `${name}/Concat_1`, [u(b, 'b2'), u(merged, 'kvrep'), u(t, 't2'), u(d, 'd2')], { axis: 0 });
    return this.op('Reshape', `${name}/Reshape`, [expanded, shape]);
  }

  build(layers: number): void {
    const c = this.cfg;
    const g = this.b;
    const ids = g.input('input_ids', ['batch_size', 'sequence_length'], DataType.INT64);
    const mask = g.input('attention_mask', ['batch_size', 'total_sequence_length'], DataType.INT64);
    const positions = g.input('position_ids', ['batch_size', 'sequence_length'], DataType.INT64);
    const past = Array.from({ length: layers }, (_, i) => ['key', 'value'].map((k) => g.input(`past_key_values.${i}.${k}`, ['batch_size', c.kvHeads, 'past_sequence_length', c.headDim], F16)) as [Value, Value]);

    const embed = this.weight('model.embed_tokens.weight', [c.vocab, c.hidden], ((r) => (out: Float32Array) => { for (let i = 0; i < out.length; i++) out[i] = (r() * 2 - 1); })(mulberry32(seedOf('model.embed_tokens.weight'))));
    let x = this.op('Gather', '/embed_tokens/Gather', [embed, ids], { axis: 0 });

    // Additive causal + padding mask [b, 1, s, total] in float16.
    const total = this.size(mask, 1, '/mask/total');
    const seq = this.size(ids, 1, '/mask/seq');
    const one = this.ints('/mask.one', [1], []);
    const queryPos = this.op('Unsqueeze', '/mask/Unsqueeze', [this.op('Range', '/mask/Range', [this.op('Sub', '/mask/Sub', [total, seq]), total, one]), this.ints('/mask.axes1', [1])]);
    const keyPos = this.op('Unsqueeze', '/mask/Unsqueeze_1', [this.op('Range', '/mask/Range_1', [this.ints('/mask.zero', [0], []), total, one]), this.ints('/mask.axes0', [0])]);
    const blocked = this.op('Or', '/mask/Or', [
      this.op('Unsqueeze', '/mask/Unsqueeze_2', [this.op('Greater', '/mask/Greater', [keyPos, queryPos]), this.ints('/mask.axes01', [0, 1])]),
      this.op('Unsqueeze', '/mask/Unsqueeze_3', [this.op('Equal', '/mask/Equal', [mask, this.ints('/mask.zero_i', [0], [])]), this.ints('/mask.axes12', [1, 2])]),
    ]);
    const bias = this.op('Where', '/mask/Where', [blocked, this.scalar('/mask.min', -65504, F16), this.scalar('/mask.zero_h', 0, F16)]);

    // Rotary tables [max_pos, 128] (cat(freqs, freqs)), gathered by position_ids → [b, 1, s, 128].
    const half = c.headDim / 2;
    const angle = (i: number) => { const p = Math.floor(i / c.headDim); const j = i % c.headDim % half; return p / c.theta ** ((2 * j) / c.headDim); };
    const cosTable = this.weight('rotary.cos_cached', [c.maxPositions, c.headDim], (out, from) => { for (let i = 0; i < out.length; i++) out[i] = Math.cos(angle(from + i)); });
    const sinTable = this.weight('rotary.sin_cached', [c.maxPositions, c.headDim], (out, from) => { for (let i = 0; i < out.length; i++) out[i] = Math.sin(angle(from + i)); });
    const cos = this.op('Unsqueeze', '/rotary_emb/Unsqueeze', [this.op('Gather', '/rotary_emb/Gather', [cosTable, positions], { axis: 0 }), this.ints('/rotary.axes', [1])]);
    const sin = this.op('Unsqueeze', '/rotary_emb/Unsqueeze_1', [this.op('Gather', '/rotary_emb/Gather_1', [sinTable, positions], { axis: 0 }), this.ints('/rotary.axes_1', [1])]);

    for (let i = 0; i < layers; i++) {
      const p = `model.layers.${i}`;
      const n = `/layers.${i}`;
      const h = this.rmsNorm(x, this.vector(`${p}.input_layernorm.weight`, c.hidden), `${n}/input_layernorm`);
      const b = this.size(h, 0, `${n}/self_attn/batch`);
      const s = this.size(h, 1, `${n}/self_attn/seq`);
      const proj = (role: string, out: number) => this.op('MatMul', `${n}/self_attn/${role}_proj/MatMul`, [h, this.linear(`${p}.self_attn.${role}_proj.weight`, c.hidden, out)]);
      const q = this.rope(this.heads(proj('q', c.heads * c.headDim), b, s, c.heads, `${n}/self_attn/q`), cos, sin, `${n}/self_attn/q_rope`);
      const k = this.rope(this.heads(proj('k', c.kvHeads * c.headDim), b, s, c.kvHeads, `${n}/self_attn/k`), cos, sin, `${n}/self_attn/k_rope`);
      const v = this.heads(proj('v', c.kvHeads * c.headDim), b, s, c.kvHeads, `${n}/self_attn/v`);
      const [pk, pv] = past[i]!;
      const keys = this.b.node('Concat', [pk, k], { axis: 2 }, { name: `${n}/self_attn/Concat_key` });
      const values = this.b.node('Concat', [pv, v], { axis: 2 }, { name: `${n}/self_attn/Concat_value` });
      const presentKey = this.present(keys.output(0), `present.${i}.key`);
      const presentValue = this.present(values.output(0), `present.${i}.value`);
      const rep = c.heads / c.kvHeads;
      const kr = this.repeatKv(presentKey, rep, `${n}/self_attn/repeat_k`);
      const vr = this.repeatKv(presentValue, rep, `${n}/self_attn/repeat_v`);
      const scores = this.op('Add', `${n}/self_attn/Add_mask`, [this.op('Div', `${n}/self_attn/Div`, [this.op('MatMul', `${n}/self_attn/MatMul`, [q, this.op('Transpose', `${n}/self_attn/Transpose_k`, [kr], { perm: [0, 1, 3, 2] })]), this.scalar(`${n}/self_attn.scale`, Math.sqrt(c.headDim), F16)]), bias]);
      const probs = this.op('Cast', `${n}/self_attn/Cast_1`, [this.op('Softmax', `${n}/self_attn/Softmax`, [this.op('Cast', `${n}/self_attn/Cast`, [scores], { to: F32 })], { axis: -1 })], { to: F16 });
      const context = this.op('Transpose', `${n}/self_attn/Transpose_out`, [this.op('MatMul', `${n}/self_attn/MatMul_1`, [probs, vr])], { perm: [0, 2, 1, 3] });
      const merged = this.op('Reshape', `${n}/self_attn/Reshape_out`, [context, this.op('Concat', `${n}/self_attn/Concat_out`, [this.unsq(b, `${n}/self_attn/Unsqueeze_b`), this.unsq(s, `${n}/self_attn/Unsqueeze_s`), this.ints(`${n}/self_attn.width`, [c.heads * c.headDim])], { axis: 0 })]);
      x = this.op('Add', `${n}/Add`, [x, this.op('MatMul', `${n}/self_attn/o_proj/MatMul`, [merged, this.linear(`${p}.self_attn.o_proj.weight`, c.heads * c.headDim, c.hidden)])]);
      const h2 = this.rmsNorm(x, this.vector(`${p}.post_attention_layernorm.weight`, c.hidden), `${n}/post_attention_layernorm`);
      const gate = this.op('MatMul', `${n}/mlp/gate_proj/MatMul`, [h2, this.linear(`${p}.mlp.gate_proj.weight`, c.hidden, c.ffn)]);
      const up = this.op('MatMul', `${n}/mlp/up_proj/MatMul`, [h2, this.linear(`${p}.mlp.up_proj.weight`, c.hidden, c.ffn)]);
      const act = this.op('Mul', `${n}/mlp/Mul_1`, [this.op('Mul', `${n}/mlp/Mul`, [gate, this.op('Sigmoid', `${n}/mlp/Sigmoid`, [gate])]), up]);
      x = this.op('Add', `${n}/Add_1`, [x, this.op('MatMul', `${n}/mlp/down_proj/MatMul`, [act, this.linear(`${p}.mlp.down_proj.weight`, c.ffn, c.hidden)])]);
    }
    const final = this.rmsNorm(x, this.vector('model.norm.weight', c.hidden), '/norm');
    const logits = this.b.node('MatMul', [final, this.linear('lm_head.weight', c.hidden, c.vocab)], {}, { name: '/lm_head/MatMul' });
    this.present(logits.output(0), 'logits', ['batch_size', 'sequence_length', c.vocab]);
  }

  /** Routes `v` through a graph output named `name` (Identity-free: the producing node's output is renamed). */
  private present(v: Value, name: string, shape = ['batch_size', this.cfg.kvHeads, 'total_sequence_length', this.cfg.headDim] as (string | number)[]): Value {
    const node = v.producer()!;
    const out = this.b.graph.value(name);
    node.setOutputs([out]);
    out.elemType = F16;
    out.shape = shape;
    this.b.output(out);
    return out;
  }
}

/** Writes the model and its side file (atomically: temporary names, renamed when complete); returns the side file's size. */
export function makeLlama7b(layers: number, out: string): { dataBytes: number } {
  const target = resolve(out);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = (p: string) => `${p}.tmp-${process.pid}`;
  const location = `${basename(target)}.data`;
  const side = new SideFile(tmp(`${target}.data`), location);
  const model = new Llama7b(side);
  let dataBytes: number;
  try {
    model.build(layers);
  } finally {
    dataBytes = side.close();
  }
  writeFileSync(tmp(target), encodeModel(model.b.build()));
  renameSync(tmp(`${target}.data`), `${target}.data`);
  renameSync(tmp(target), target);
  return { dataBytes };
}

function main(argv: string[]): void {
  const arg = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const layers = Number(arg('--layers') ?? 2);
  if (!Number.isInteger(layers) || layers < 1) throw new Error('--layers must be a positive integer');
  const out = arg('--out') ?? fileURLToPath(new URL(`./out/llama7b_${layers}l.onnx`, import.meta.url));
  if (existsSync(out) && !argv.includes('--force')) {
    console.log(`${out} exists (--force to regenerate)`);
    return;
  }
  const t0 = performance.now();
  const { dataBytes } = makeLlama7b(layers, out);
  console.log(`${out}: ${layers} layers, ${(dataBytes / 2 ** 30).toFixed(2)} GiB of float16 weights, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main(process.argv.slice(2));
