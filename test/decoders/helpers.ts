/**
 * Test support for decoder language models (issue 11): the fixtures of fixtures/decoders/, running them with their
 * KV cache in onnxruntime, and three oracles that never look at the engine's analysis:
 *
 *  - cache consistency: prefill then decode token by token through the model's own cache equals one pass;
 *  - the masked original: removed heads / KV groups / FFN neurons silenced by zeroing the output-projection rows
 *    that read them (heads are independent, so removing a head equals silencing it);
 *  - the torch reference (test/oracles/torch_reference.py): the family's torch module with its parameters sliced to
 *    the keep lists (also hidden channels, with norms over the kept features), or masked, in Debian's torch.
 *
 * Keep lists are read off a pruned model by matching its weight blocks against the original's (`readKeep`), so the
 * tests need no knowledge of how the engine numbers groups or units.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { constantFloat32 } from '../../src/ir/constants.js';
import { DataType } from '../../src/ir/dtype.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { Tensor } from '../../src/ir/tensor.js';
import { floats, ortSession, relativeError, Rng, runPython } from '../support/index.js';

export const DECODERS_DIR = fileURLToPath(new URL('../../fixtures/decoders', import.meta.url));

/** Relative tolerance of every logits comparison (issue 11). */
export const TOLERANCE = 1e-4;

// ---------------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------------

/** Where a projection's weight is: read by `node`'s input `input`; the axes of its in / out features as stored. */
export interface WeightRef {
  initializer: string;
  node: string;
  input: number;
  inAxis: number | null;
  outAxis: number;
  shape: number[];
  /** A packed QKV weight: its output features are these sections, in order. */
  sections?: { role: 'q' | 'k' | 'v'; size: number }[];
  /** MatMulNBits: the weight is int4 blocks, not a float matrix. */
  quantized?: string;
}

export interface DecoderConfig {
  arch: 'llama' | 'gpt2' | 'qwen2';
  vocab: number;
  hidden: number;
  layers: number;
  heads: number[];
  kvHeads: number[];
  headDim: number;
  ffn: number[];
  maxPositions: number;
  eps: number;
  ropeTheta: number;
}

export type LayerLayout = Partial<Record<'q' | 'k' | 'v' | 'qkv' | 'o' | 'gate' | 'up' | 'down', WeightRef>>;

export interface DecoderFixture {
  name: string;
  kind: 'plain' | 'fused';
  path: string;
  cache: boolean;
  family: 'llama' | 'gpt2' | 'qwen2';
  /** The plain no-cache fixture whose weights (and torch module) this one carries. */
  weightsFrom: string;
  seed: number;
  config: DecoderConfig;
  layout: { embed: WeightRef; lmHead: WeightRef; layers: LayerLayout[] };
  /** Debian's python3-onnx 1.12 checks opsets up to 17; opset-23 fixtures are checked by onnxruntime only. */
  checker: 'python3-onnx' | 'onnxruntime only';
  /** Some weights are MatMulNBits: logits are the float model's within quantization error, no torch reference. */
  quantized: boolean;
  sha256: string;
  opCounts: Record<string, number>;
}

interface ManifestEntry extends Omit<DecoderFixture, 'name' | 'path' | 'weightsFrom' | 'checker' | 'quantized' | 'seed'> {
  file: string;
  seed?: number;
  weightsFrom?: string;
  checker?: DecoderFixture['checker'];
}

function readManifest(file: string): Record<string, ManifestEntry> {
  const p = join(DECODERS_DIR, file);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { models: Record<string, ManifestEntry> }).models : {};
}

/** Every decoder fixture: the plain exports (manifest.json) and the fused graphs (fused.json). */
export const DECODER_FIXTURES: DecoderFixture[] = (() => {
  const plain = readManifest('manifest.json');
  const fused = readManifest('fused.json');
  const out: DecoderFixture[] = [];
  for (const [name, e] of [...Object.entries(plain), ...Object.entries(fused)]) {
    const weightsFrom = e.weightsFrom ?? e.family;
    out.push({
      name, kind: e.kind, path: join(DECODERS_DIR, e.file), cache: e.cache, family: e.family, weightsFrom,
      seed: e.seed ?? plain[weightsFrom]!.seed!, config: e.config, layout: e.layout, checker: e.checker ?? 'python3-onnx',
      quantized: e.layout.layers.some((l) => Object.values(l).some((r) => r?.quantized)), sha256: e.sha256, opCounts: e.opCounts,
    });
  }
  return out;
})();

export function decoderFixture(name: string): DecoderFixture {
  const f = DECODER_FIXTURES.find((x) => x.name === name);
  if (!f) throw new Error(`decoder fixture ${name} is missing: run fixtures/decoders/make_decoders.py and make_fused.ts`);
  return f;
}

export function fixtureBytes(fx: DecoderFixture): Uint8Array {
  return new Uint8Array(readFileSync(fx.path));
}

/** Seeded token ids [batch][length] in [0, vocab). */
export function tokens(fx: DecoderFixture, batch = 2, length = 7, seed = 3): number[][] {
  const r = new Rng(seed).next;
  return Array.from({ length: batch }, () => Array.from({ length }, () => Math.floor(r() * fx.config.vocab)));
}

// ---------------------------------------------------------------------------------------------------------------
// Running a decoder with its cache
// ---------------------------------------------------------------------------------------------------------------

/** One layer's cache tensors, [batch, kv_heads, length, head_dim]. */
export interface CacheEntry { key: ort.Tensor; value: ort.Tensor }

/** Logits [batch, sequence, vocab] as a flat array with its dims. */
export interface Logits { data: Float32Array; dims: number[] }

const int64 = (rows: number[][]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

/**
 * A decoder in onnxruntime (CPU, one thread, no graph optimization: reproducible). Feeds what the model declares:
 * input_ids, and where present attention_mask (all ones), position_ids (past length onwards) and
 * past_key_values.{i}.key|value (empty before the first step, shaped by the declared kv_heads and head_dim).
 */
export class Decoder {
  private constructor(private readonly session: ort.InferenceSession, readonly model: Model) {}

  static async open(bytes: Uint8Array): Promise<Decoder> {
    const session = await ortSession(bytes);
    return new Decoder(session, decodeModel(bytes));
  }

  release(): Promise<void> {
    return this.session.release();
  }

  /** Number of layers with a cache (0 for a model without one). */
  get cacheLayers(): number {
    return this.session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
  }

  /** The declared shape of a graph input or output. */
  declared(name: string): (number | string | null)[] | undefined {
    const v = [...this.model.graph.inputs, ...this.model.graph.outputs].find((x) => x.name === name);
    return v?.shape;
  }

  /** An empty cache: [batch, kv_heads, 0, head_dim] per layer, kv_heads and head_dim from the declared inputs. */
  emptyCache(batch: number): CacheEntry[] {
    return Array.from({ length: this.cacheLayers }, (_, i) => {
      const entry = (kind: 'key' | 'value') => {
        const name = `past_key_values.${i}.${kind}`;
        const [, kv, , hd] = this.declared(name) ?? [];
        if (typeof kv !== 'number' || typeof hd !== 'number') throw new Error(`${name} is declared [${this.declared(name)}]: kv_heads and head_dim must be numbers`);
        return new ort.Tensor('float32', new Float32Array(0), [batch, kv, 0, hd]);
      };
      return { key: entry('key'), value: entry('value') };
    });
  }

  /** One run on `ids` [batch][s] after a cache of `past` (omitted: empty). */
  async step(ids: number[][], past?: CacheEntry[]): Promise<{ logits: Logits; present: CacheEntry[] }> {
    const batch = ids.length;
    const s = ids[0]!.length;
    const cache = past ?? this.emptyCache(batch);
    const pastLen = cache.length ? (cache[0]!.key.dims[2] as number) : 0;
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const layer = /^past_key_values\.(\d+)\.(key|value)$/.exec(name);
      if (name === 'input_ids') feeds[name] = int64(ids);
      else if (name === 'attention_mask') feeds[name] = int64(ids.map(() => Array<number>(pastLen + s).fill(1)));
      else if (name === 'position_ids') feeds[name] = int64(ids.map(() => Array.from({ length: s }, (_, j) => pastLen + j)));
      else if (layer) feeds[name] = cache[Number(layer[1])]![layer[2] as 'key' | 'value'];
      else throw new Error(`decoder input '${name}' is not one the cache contract knows`);
    }
    const out = await this.session.run(feeds);
    const present = Array.from({ length: this.cacheLayers }, (_, i) => ({ key: out[`present.${i}.key`]!, value: out[`present.${i}.value`]! }));
    return { logits: { data: floats(out.logits!), dims: out.logits!.dims as number[] }, present };
  }

  /** Logits of one pass over the whole sequence. */
  async full(ids: number[][]): Promise<Logits> {
    return (await this.step(ids)).logits;
  }

  /** Prefill the first `prefill` tokens, then one token per step feeding present.* back as past_key_values.*. */
  async incremental(ids: number[][], prefill: number): Promise<{ logits: Logits; cacheShapes: number[][] }> {
    const [b, n] = [ids.length, ids[0]!.length];
    let { logits, present } = await this.step(ids.map((r) => r.slice(0, prefill)));
    const vocab = logits.dims[2]!;
    const data = new Float32Array(b * n * vocab);
    const put = (l: Logits, at: number) => {
      const s = l.dims[1]!;
      for (let r = 0; r < b; r++) data.set(l.data.subarray(r * s * vocab, (r + 1) * s * vocab), (r * n + at) * vocab);
    };
    put(logits, 0);
    for (let j = prefill; j < n; j++) {
      ({ logits, present } = await this.step(ids.map((r) => r.slice(j, j + 1)), present));
      put(logits, j);
    }
    return { logits: { data, dims: [b, n, vocab] }, cacheShapes: present.flatMap((e) => [e.key.dims as number[], e.value.dims as number[]]) };
  }
}

/** Runs `fn` on a decoder opened from `bytes`, releasing it afterwards. */
export async function withDecoder<T>(bytes: Uint8Array, fn: (d: Decoder) => Promise<T>): Promise<T> {
  const d = await Decoder.open(bytes);
  try {
    return await fn(d);
  } finally {
    await d.release();
  }
}

/** max |a − b| / max |b| over two flat logits arrays (Infinity for a length mismatch or NaN). */
export function relative(a: Float32Array, b: Float32Array): number {
  return relativeError(new ort.Tensor('float32', a, [a.length]), new ort.Tensor('float32', b, [b.length]));
}

/**
 * Cache consistency: the relative error between one pass over `ids` and prefill (`prefill` tokens) + single-token
 * steps through the model's own cache, and the cache shapes after the last step (key, value per layer).
 */
export async function cacheConsistency(bytes: Uint8Array, ids: number[][], prefill = 3): Promise<{ error: number; cacheShapes: number[][] }> {
  return withDecoder(bytes, async (d) => {
    if (!d.cacheLayers) throw new Error('cacheConsistency: the model has no past_key_values inputs');
    const full = await d.full(ids);
    const inc = await d.incremental(ids, prefill);
    return { error: relative(inc.logits.data, full.data), cacheShapes: inc.cacheShapes };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Keep lists
// ---------------------------------------------------------------------------------------------------------------

/** What a pruned decoder keeps, per the original's numbering. Omitted lists keep everything. */
export interface LayerKeep { heads?: number[]; kvHeads?: number[]; ffn?: number[] }
export interface KeepLists { hidden?: number[]; layers?: LayerKeep[] }
/** Keep lists with every list given. */
export interface FullKeep { hidden: number[]; layers: { heads: number[]; kvHeads: number[]; ffn: number[] }[] }

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Query heads that read KV head g (h // (heads / kv_heads) = g). */
export function queryHeadsOf(cfg: DecoderConfig, layer: number, groups: readonly number[]): number[] {
  const rep = cfg.heads[layer]! / cfg.kvHeads[layer]!;
  return range(cfg.heads[layer]!).filter((h) => groups.includes(Math.floor(h / rep)));
}

/**
 * Seeded random keep lists removing ⌊ratio·n⌋ (at least one unit kept) of: whole KV groups with their query heads in
 * GQA layers, heads in MHA layers (`heads`); FFN neurons (`ffn`); hidden channels (`hidden`).
 */
export function randomKeep(fx: DecoderFixture, seed: number, ratios: { heads?: number; ffn?: number; hidden?: number }): FullKeep {
  const r = new Rng(seed).next;
  const pick = (n: number, ratio: number | undefined): number[] => {
    const order = range(n).sort(() => r() - 0.5);
    const drop = new Set(order.slice(0, Math.min(n - 1, Math.floor((ratio ?? 0) * n + 1e-9))));
    return range(n).filter((u) => !drop.has(u));
  };
  const cfg = fx.config;
  const layers = range(cfg.layers).map((i) => {
    const gqa = cfg.kvHeads[i]! < cfg.heads[i]!;
    const kvHeads = pick(cfg.kvHeads[i]!, ratios.heads);
    const heads = gqa ? queryHeadsOf(cfg, i, kvHeads) : pick(cfg.heads[i]!, ratios.heads);
    return { heads, kvHeads: gqa ? kvHeads : heads, ffn: pick(cfg.ffn[i]!, ratios.ffn) };
  });
  return { hidden: pick(cfg.hidden, ratios.hidden), layers };
}

/** A weight as a row-major [in, out] matrix, found through its node (so a pruned model's renamed copy is found). */
function matrixAt(model: Model, ref: WeightRef): { rows: number; cols: number; data: Float32Array } {
  const node = model.graph.nodes.find((n) => n.name === ref.node);
  if (!node) throw new Error(`no node '${ref.node}'`);
  const w = constantFloat32(node.input(ref.input));
  if (!w || w.dims.length !== 2) throw new Error(`'${ref.node}' input ${ref.input} is not a constant matrix`);
  const [a, b] = w.dims as [number, number];
  if (ref.inAxis === 0 || (ref.inAxis === null && ref.outAxis === 1)) return { rows: a, cols: b, data: w.data };
  const t = new Float32Array(a * b);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) t[j * a + i] = w.data[i * b + j]!;
  return { rows: b, cols: a, data: t };
}

/**
 * Which blocks of `width` lines along `axis` ('rows' or 'cols') of the original survive in the pruned matrix, in
 * order, comparing only the other axis's positions `other` (kept there). Each pruned block must equal an original
 * block exactly (a pruner copies weights, never recomputes them).
 */
function matchBlocks(orig: { rows: number; cols: number; data: Float32Array }, pruned: { rows: number; cols: number; data: Float32Array },
  axis: 'rows' | 'cols', width: number, other: readonly number[], what: string): number[] {
  const at = (m: typeof orig, line: number, k: number) => (axis === 'rows' ? m.data[line * m.cols + k]! : m.data[k * m.cols + line]!);
  const otherPruned = axis === 'rows' ? pruned.cols : pruned.rows;
  if (otherPruned !== other.length) throw new Error(`${what}: ${otherPruned} positions across, ${other.length} expected`);
  const n = (axis === 'rows' ? orig.rows : orig.cols) / width;
  const m = (axis === 'rows' ? pruned.rows : pruned.cols) / width;
  const kept: number[] = [];
  let next = 0;
  for (let b = 0; b < m; b++) {
    let found = -1;
    for (let u = next; u < n && found < 0; u++) {
      let same = true;
      for (let j = 0; j < width && same; j++) for (let k = 0; k < other.length && same; k++) same = Object.is(at(pruned, b * width + j, k), at(orig, u * width + j, other[k]!));
      if (same) found = u;
    }
    if (found < 0) throw new Error(`${what}: pruned block ${b} equals no original block after ${next - 1}`);
    kept.push(found);
    next = found + 1;
  }
  return kept;
}

/** The columns [from, from + size) of a matrix. */
function columns(m: { rows: number; cols: number; data: Float32Array }, from: number, size: number) {
  const data = new Float32Array(m.rows * size);
  for (let r = 0; r < m.rows; r++) data.set(m.data.subarray(r * m.cols + from, r * m.cols + from + size), r * size);
  return { rows: m.rows, cols: size, data };
}

/**
 * The keep lists a pruned model realizes, read off its weights: hidden channels from the embedding table's columns,
 * query heads from the output projection's row blocks, KV heads from the key projection's (or the packed QKV's key
 * section's) column blocks, FFN neurons from the down projection's rows. Throws when a pruned weight block equals no
 * original block. Quantized layers are reported whole.
 */
export function readKeep(fx: DecoderFixture, original: Uint8Array, pruned: Uint8Array): FullKeep {
  const a = decodeModel(original);
  const b = decodeModel(pruned);
  const cfg = fx.config;
  const hd = cfg.headDim;
  const embedA = matrixAt(a, fx.layout.embed);
  const embedB = matrixAt(b, fx.layout.embed);
  const hidden = matchBlocks(embedA, embedB, 'cols', 1, range(embedA.rows), 'embedding columns');
  const layers = fx.layout.layers.map((l, i): FullKeep['layers'][number] => {
    const o = l.o!;
    const heads = matchBlocks(matrixAt(a, o), matrixAt(b, o), 'rows', hd, hidden, `layer ${i} o rows`);
    let kvHeads: number[];
    if (l.qkv) {
      const [q, k] = l.qkv.sections!;
      const qa = matrixAt(a, l.qkv);
      const qb = matrixAt(b, l.qkv);
      const kvSize = (qb.cols - heads.length * hd) / 2;
      kvHeads = matchBlocks(columns(qa, q!.size, k!.size), columns(qb, heads.length * hd, kvSize), 'cols', hd, hidden, `layer ${i} key section`);
    } else {
      kvHeads = matchBlocks(matrixAt(a, l.k!), matrixAt(b, l.k!), 'cols', hd, hidden, `layer ${i} k columns`);
    }
    const ffn = l.down!.quantized ? range(cfg.ffn[i]!) : matchBlocks(matrixAt(a, l.down!), matrixAt(b, l.down!), 'rows', 1, hidden, `layer ${i} down rows`);
    return { heads, kvHeads, ffn };
  });
  return { hidden, layers };
}

/** Whether the keep lists remove anything of each kind. */
export function removedKinds(fx: DecoderFixture, keep: FullKeep): { hidden: boolean; heads: boolean; kvHeads: boolean; ffn: boolean } {
  const cfg = fx.config;
  return {
    hidden: keep.hidden.length < cfg.hidden,
    heads: keep.layers.some((l, i) => l.heads.length < cfg.heads[i]!),
    kvHeads: keep.layers.some((l, i) => l.kvHeads.length < cfg.kvHeads[i]!),
    ffn: keep.layers.some((l, i) => l.ffn.length < cfg.ffn[i]!),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The masked original
// ---------------------------------------------------------------------------------------------------------------

/**
 * The original with removed query heads (and every query head of a removed KV group) and FFN neurons silenced: the
 * rows of the output / down projection that read them are zeroed, in the weight's stored type. Pruning those units
 * must give the same logits. Hidden channels are not maskable this way (norm statistics change): use the torch
 * reference for them.
 */
export function maskedOriginal(fx: DecoderFixture, bytes: Uint8Array, keep: KeepLists): Uint8Array {
  if (keep.hidden && keep.hidden.length !== fx.config.hidden) throw new Error('maskedOriginal: hidden channels need the torch reference');
  const model = decodeModel(bytes);
  const cfg = fx.config;
  (keep.layers ?? []).forEach((lk, i) => {
    const l = fx.layout.layers[i]!;
    const groups = lk.kvHeads ?? range(cfg.kvHeads[i]!);
    const heads = (lk.heads ?? range(cfg.heads[i]!)).filter((h) => queryHeadsOf(cfg, i, groups).includes(h));
    const silentHeads = range(cfg.heads[i]!).filter((h) => !heads.includes(h));
    zeroInputRows(model, l.o!, silentHeads.flatMap((h) => range(cfg.headDim).map((j) => h * cfg.headDim + j)));
    const silentNeurons = range(cfg.ffn[i]!).filter((n) => !(lk.ffn ?? range(cfg.ffn[i]!)).includes(n));
    if (silentNeurons.length && l.down!.quantized) throw new Error(`maskedOriginal: layer ${i}'s down projection is ${l.down!.quantized}`);
    if (silentNeurons.length) zeroInputRows(model, l.down!, silentNeurons);
  });
  return encodeModel(model);
}

/** Zeroes the input-feature lines `features` of a weight (a fresh initializer, so shared data stays intact). */
function zeroInputRows(model: Model, ref: WeightRef, features: readonly number[]): void {
  if (!features.length) return;
  const g = model.graph;
  const node = g.nodes.find((n) => n.name === ref.node)!;
  const v = node.input(ref.input)!;
  const { dims, data } = constantFloat32(v)!;
  const out = data.slice();
  const zero = new Set(features);
  const [, cols] = dims as [number, number];
  for (let e = 0; e < out.length; e++) {
    const line = ref.inAxis === 0 ? Math.floor(e / cols) : e % cols;
    if (zero.has(line)) out[e] = 0;
  }
  node.setInput(ref.input, g.addInitializer(Tensor.fromFloat32(g.freshName(`${v.name}_masked`), dims, out, v.elemType ?? DataType.FLOAT)));
}

// ---------------------------------------------------------------------------------------------------------------
// The torch reference
// ---------------------------------------------------------------------------------------------------------------

export interface TorchCase { fx: DecoderFixture; ids: number[][]; keep?: KeepLists; mode?: 'slice' | 'mask' }

/** The torch reference's logits for each case (one interpreter for all), or why it rejects the case's keep lists. */
export function torchReference(cases: readonly TorchCase[]): (Logits | { error: string })[] {
  const input = {
    cases: cases.map((c) => ({ config: c.fx.config, seed: c.fx.seed, inputIds: c.ids, keep: c.keep ?? {}, mode: c.mode ?? 'slice' })),
  };
  return runPython<{ results: ({ dims: number[]; logits: number[] } | { error: string })[] }>('torch_reference.py', [], { input }).results
    .map((r) => ('error' in r ? r : { dims: r.dims, data: Float32Array.from(r.logits) }));
}

/** The torch reference's logits for each case; a rejected keep list throws. */
export function torchLogits(cases: readonly TorchCase[]): Logits[] {
  return torchReference(cases).map((r) => {
    if ('error' in r) throw new Error(`torch reference: ${r.error}`);
    return r;
  });
}
