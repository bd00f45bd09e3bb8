import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { constantSource } from '../../ir/constants.js';
import { fail } from '../../ir/errors.js';
import type { Model } from '../../ir/model.js';
import type { Value } from '../../ir/value.js';
import { readNpy } from '../data/npy.js';
import { selectIndices } from '../data/select.js';
import type { InputSpec } from '../inputs.js';
import { ort } from '../ort.js';

/**
 * How a language model (or any model over token ids) is fed, the way optimum exports decoders: `input_ids`
 * [batch, sequence]; an `attention_mask` of ones over the whole window; `position_ids` 0 … T−1; every
 * `past_key_values.*` / `past_*` cache input empty ([batch, kv_heads, 0, head_dim]), so a window is one first step;
 * `token_type_ids` zeros. Any other input cannot be fed from token windows.
 */
export interface TokenInputs {
  readonly ids: InputSpec;
  readonly mask?: InputSpec;
  readonly positions?: InputSpec;
  readonly tokenTypes?: InputSpec;
  readonly past: readonly InputSpec[];
}

const INTEGER_TYPES = new Set<string>(['int64', 'int32']);

/** The model's token inputs, or undefined when it takes no integer input named or shaped like token ids. */
export function tokenInputs(specs: readonly InputSpec[]): TokenInputs | undefined {
  const named = (n: string) => specs.find((s) => s.name === n);
  const ids = named('input_ids') ?? soleIntegerInput(specs);
  if (!ids || !INTEGER_TYPES.has(ids.type)) return undefined;
  const mask = named('attention_mask');
  const positions = named('position_ids');
  const tokenTypes = named('token_type_ids');
  const past = specs.filter((s) => /^past/.test(s.name));
  const known = new Set([ids, mask, positions, tokenTypes, ...past]);
  const other = specs.find((s) => !known.has(s));
  if (other) fail(`model input '${other.name}' is neither token ids, an attention mask, positions, token types nor a past KV cache: token windows cannot feed it`);
  for (const p of past) {
    if (p.dims.length !== 4 || typeof p.dims[1] !== 'number' || typeof p.dims[3] !== 'number') {
      fail(`cache input '${p.name}' has shape [${p.dims.join(', ')}], not [batch, kv_heads, past_sequence, head_dim] with numbers for kv_heads and head_dim`);
    }
  }
  return { ids, ...(mask ? { mask } : {}), ...(positions ? { positions } : {}), ...(tokenTypes ? { tokenTypes } : {}), past };
}

function soleIntegerInput(specs: readonly InputSpec[]): InputSpec | undefined {
  const ints = specs.filter((s) => INTEGER_TYPES.has(s.type) && !['attention_mask', 'position_ids', 'token_type_ids'].includes(s.name));
  return ints.length === 1 ? ints[0] : undefined;
}

/** Feeds for `rows` windows of `window` tokens starting at window `start` of `ids` ([count, window], row-major). */
export function tokenFeeds(inputs: TokenInputs, ids: Int32Array, window: number, start: number, rows: number): Record<string, ort.Tensor> {
  const n = rows * window;
  const idData = ids.subarray(start * window, start * window + n);
  const intTensor = (spec: InputSpec, values: (i: number) => number): ort.Tensor => spec.type === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(values(i))), [rows, window])
    : new ort.Tensor('int32', Int32Array.from({ length: n }, (_, i) => values(i)), [rows, window]);
  const feeds: Record<string, ort.Tensor> = { [inputs.ids.name]: intTensor(inputs.ids, (i) => idData[i]!) };
  if (inputs.mask) feeds[inputs.mask.name] = intTensor(inputs.mask, () => 1);
  if (inputs.positions) feeds[inputs.positions.name] = intTensor(inputs.positions, (i) => i % window);
  if (inputs.tokenTypes) feeds[inputs.tokenTypes.name] = intTensor(inputs.tokenTypes, () => 0);
  for (const p of inputs.past) {
    const dims = [rows, p.dims[1] as number, 0, p.dims[3] as number];
    feeds[p.name] = p.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
  }
  return feeds;
}

/**
 * The number of tokens the model knows: the rows of the embedding table its token ids index (a Gather from a constant,
 * possibly behind Cast), else the last dim of its first output when that is a number; undefined when neither is known.
 */
export function vocabularySize(model: Model, idsName: string): number | undefined {
  const ids = model.graph.inputs.find((v) => v.name === idsName);
  if (ids) {
    const seen = new Set<Value>();
    const stack: Value[] = [ids];
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const { node, index } of v.uses()) {
        if (node.opType === 'Gather' && index === 1) {
          const table = constantSource(node.input(0))?.tensor;
          if (table && (node.getInt('axis', 0) ?? 0) === 0) return table.dims[0];
        }
        if (node.opType === 'Cast' || node.opType === 'Identity') stack.push(node.output(0));
      }
    }
  }
  const last = model.graph.outputs[0]?.shape?.at(-1);
  return typeof last === 'number' ? last : undefined;
}

/** Token windows: `count` rows of `window` ids, and whether they are bytes of a text file. */
export interface TokenWindows {
  readonly ids: Int32Array;
  readonly count: number;
  readonly window: number;
  readonly source: string;
  /** Cut from a text file, one token per byte. */
  readonly bytes: boolean;
}

export interface TokenWindowOptions {
  /** Window length for text files (default 128); a .npy's rows are its windows. */
  window?: number;
  /** At most this many windows: a seeded choice when `seed` is given, else the first ones. */
  limit?: number;
  seed?: number;
}

export const DEFAULT_WINDOW = 128;

/**
 * Token windows from a source: a `.npy` of integer token ids [N, T] (each row one window, fed as is), or any other
 * file read as bytes and cut into consecutive windows of `window` bytes (stride = window, a shorter tail dropped) —
 * only for a model whose vocabulary is the 256 byte values; a model with another vocabulary needs its own tokenizer,
 * so the text is refused with that reason.
 */
export function loadTokenWindows(source: string, vocab: number | undefined, opts: TokenWindowOptions = {}): TokenWindows {
  let st;
  try {
    st = statSync(source);
  } catch {
    fail(`data source '${source}' does not exist`);
  }
  if (st.isDirectory()) fail(`'${source}' is a folder: a model over token ids takes a .npy of token ids [N, T] or, for a byte-level model, a text file`);
  let ids: Int32Array;
  let window: number;
  let bytes = false;
  if (source.toLowerCase().endsWith('.npy')) {
    const arr = readNpy(source);
    if (arr.shape.length !== 2) fail(`'${source}' has shape [${arr.shape.join(', ')}]; token ids must be [N, T] (one window per row)`);
    if (arr.data instanceof Float32Array || arr.data instanceof Float64Array) fail(`'${source}' holds ${arr.dtype} values; token ids must be integers (int64 or int32)`);
    [, window] = arr.shape as [number, number];
    if (opts.window !== undefined && opts.window !== window) fail(`'${source}' holds windows of ${window} tokens, but a window of ${opts.window} was asked for`);
    ids = Int32Array.from(arr.data);
  } else {
    if (vocab !== 256) {
      fail(`'${basename(source)}' is read as text, but the model's vocabulary has ${vocab ?? 'an unknown number of'} tokens, not the 256 bytes of a byte-level model: tokenize the text and pass the ids as a .npy of int64 [N, T]`);
    }
    window = opts.window ?? DEFAULT_WINDOW;
    const data = readFileSync(source);
    const count = Math.floor(data.length / window);
    if (count === 0) fail(`'${source}' has ${data.length} bytes, fewer than one window of ${window}`);
    ids = Int32Array.from(data.subarray(0, count * window));
    bytes = true;
  }
  if (!(Number.isInteger(window) && window > 0)) fail(`'${source}': windows of ${window} tokens`);
  const total = ids.length / window;
  if (total === 0) fail(`'${source}' holds no token windows`);
  if (vocab !== undefined) {
    const bad = ids.findIndex((t) => t < 0 || t >= vocab);
    if (bad >= 0) fail(`'${source}': token id ${ids[bad]} at position ${bad} is outside the model's vocabulary [0, ${vocab})`);
  }
  const keep = selectIndices(total, undefined, { ...(opts.limit !== undefined ? { limit: opts.limit } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  if (keep.length === total) return { ids, count: total, window, source, bytes };
  const chosen = new Int32Array(keep.length * window);
  keep.forEach((w, i) => chosen.set(ids.subarray(w * window, (w + 1) * window), i * window));
  return { ids: chosen, count: keep.length, window, source, bytes };
}
