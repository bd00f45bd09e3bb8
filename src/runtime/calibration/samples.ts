import { fail } from '../../ir/errors.js';
import type { Model } from '../../ir/model.js';
import { loadDataset } from '../data/loadDataset.js';
import type { DatasetOptions } from '../data/types.js';
import { dataOptionsForInput, floatTensor, sampleDims, type InputSpec } from '../inputs.js';
import { ort } from '../ort.js';
import { loadTokenWindows, tokenFeeds, tokenInputs, vocabularySize, type TokenInputs, type TokenWindows } from './tokens.js';

/** Samples ready to run through a model, batch by batch: token windows for a model over token ids, else tensors. */
export interface SampleBatches {
  readonly count: number;
  /** What was read, for reports: the path, and for windows their length. */
  readonly description: string;
  /**
   * Feeds for samples [start, start + rows). A model whose inputs fix the batch size gets batches of exactly that
   * size: `rows` must not exceed it, and a shorter batch is padded with zeros (what those rows produce is not read).
   */
  feeds(start: number, rows: number): Record<string, ort.Tensor>;
  /** The batch size the model's inputs fix, if they do: every run takes that many rows. */
  readonly fixedBatch?: number;
  readonly labels?: Int32Array;
  readonly numClasses?: number;
  /** Set for token windows (the ids and how the model is fed them). */
  readonly tokens?: { readonly windows: TokenWindows; readonly inputs: TokenInputs; readonly vocab: number | undefined };
}

export interface SampleOptions {
  /** Preprocessing and selection for tensor data (`--data`'s options); split defaults to 'train'. */
  dataOptions?: DatasetOptions;
  /** Text window length (token models). */
  window?: number;
  /** At most this many samples (a seeded choice when `seed` is given). */
  limit?: number;
  seed?: number;
}

/**
 * Reads a data source for a model: a model whose inputs are token ids (and masks, positions, an empty cache) takes
 * token windows (`tokens.ts`); any other model must have one float input and takes what `loadDataset` reads.
 */
export async function loadSamples(model: Model, specs: readonly InputSpec[], source: string, opts: SampleOptions = {}): Promise<SampleBatches> {
  const samples = await readSamples(model, specs, source, opts);
  const fixed = specs.find((s) => s.fixedBatch !== undefined)?.fixedBatch;
  if (fixed === undefined) return samples;
  return { ...samples, fixedBatch: fixed, feeds: (start, rows) => padRows(samples.feeds(start, rows), rows, fixed) };
}

/** Feeds of `rows` samples with zero rows added up to `size` (the batch a fixed-batch model takes). */
function padRows(feeds: Record<string, ort.Tensor>, rows: number, size: number): Record<string, ort.Tensor> {
  if (rows > size) throw new Error(`internal: a batch of ${rows} for a model with a fixed batch of ${size}`);
  if (rows === size) return feeds;
  return Object.fromEntries(Object.entries(feeds).map(([name, t]) => {
    const data = t.data as Float32Array | Int32Array | BigInt64Array | Uint8Array;
    const padded = new (data.constructor as new (n: number) => typeof data)((data.length / rows) * size);
    padded.set(data as never);
    return [name, new ort.Tensor(t.type, padded, [size, ...t.dims.slice(1)])];
  }));
}

async function readSamples(model: Model, specs: readonly InputSpec[], source: string, opts: SampleOptions): Promise<SampleBatches> {
  const select = { ...(opts.limit !== undefined ? { limit: opts.limit } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) };
  const tokens = tokenInputs(specs);
  if (tokens) {
    const vocab = vocabularySize(model, tokens.ids.name);
    const windows = loadTokenWindows(source, vocab, { ...select, ...(opts.window !== undefined ? { window: opts.window } : {}) });
    return {
      count: windows.count,
      description: `${source} (${windows.count} windows of ${windows.window} ${windows.bytes ? 'bytes' : 'tokens'})`,
      feeds: (start, rows) => tokenFeeds(tokens, windows.ids, windows.window, start, rows),
      tokens: { windows, inputs: tokens, vocab },
    };
  }
  if (specs.length !== 1) fail(`data files feed models with one input; this one has ${specs.length} (${specs.map((s) => s.name).join(', ')})`);
  const spec = specs[0]!;
  const ds = await loadDataset(source, { split: 'train', ...dataOptionsForInput(spec), ...opts.dataOptions, ...select });
  const count = ds.shape[0]!;
  const dims = sampleDims(spec, ds.shape.slice(1));
  const per = dims.reduce((a, b) => a * b, 1);
  return {
    count,
    description: `${source} (${count} samples)`,
    feeds: (start, rows) => ({ [spec.name]: floatTensor(spec, ds.x.slice(start * per, (start + rows) * per), [rows, ...dims]) }),
    ...(ds.labels ? { labels: ds.labels } : {}),
    ...(ds.numClasses !== undefined ? { numClasses: ds.numClasses } : {}),
  };
}
