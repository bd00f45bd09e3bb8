import { fail } from '../../ir/errors.js';
import type { Model } from '../../ir/model.js';
import { loadDataset } from '../data/loadDataset.js';
import type { DatasetOptions } from '../data/types.js';
import { dataOptionsForInput, floatTensor, sampleDims, type InputSpec } from '../inputs.js';
import type { ort } from '../ort.js';
import { loadTokenWindows, tokenFeeds, tokenInputs, vocabularySize, type TokenInputs, type TokenWindows } from './tokens.js';

/** Samples ready to run through a model, batch by batch: token windows for a model over token ids, else tensors. */
export interface SampleBatches {
  readonly count: number;
  /** What was read, for reports: the path, and for windows their length. */
  readonly description: string;
  /** Feeds for samples [start, start + rows). */
  feeds(start: number, rows: number): Record<string, ort.Tensor>;
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
