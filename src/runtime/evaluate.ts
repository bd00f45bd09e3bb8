import { fail } from '../ir/errors.js';
import { loadModel } from '../ir/load.js';
import type { Model } from '../ir/model.js';
import { loadSamples, type SampleBatches } from './calibration/samples.js';
import { tokenInputs } from './calibration/tokens.js';
import { AccuracyCounter, numbers } from './compare.js';
import type { DatasetOptions } from './data/types.js';
import { inputSpecs } from './inputs.js';
import type { ort } from './ort.js';
import { openSession, type EpChoice, type ExecutionProvider } from './session.js';
import { classifierOutput } from './validate.js';

export interface EvaluateOptions {
  ep?: EpChoice;
  /** Preprocessing and selection of tensor data; the split defaults to 'test'. */
  dataOptions?: DatasetOptions;
  /** Window length for text (default 128); stride = window. */
  window?: number;
  /** At most this many samples / windows (a seeded choice with `seed`). */
  limit?: number;
  seed?: number;
  /** Require perplexity (refused unless the model is a language model over token ids). */
  perplexity?: boolean;
  /** Samples per run (default 32 for tensors, 16 windows). */
  batch?: number;
}

export interface PerplexityFigures {
  /** Logits output read. */
  output: string;
  windows: number;
  window: number;
  /** Tokens predicted: every token of a window after its first. */
  predictions: number;
  /** Mean negative log-likelihood per predicted token, in nats. */
  nll: number;
  perplexity: number;
  /** For a byte-level model (vocabulary 256, text read as bytes): nll / ln 2. */
  bitsPerByte?: number;
}

export interface EvaluationReport {
  model: string;
  ep: ExecutionProvider;
  notice?: string;
  data: { source: string; samples: number };
  accuracy?: { output: string; accuracy: number; samples: number };
  perplexity?: PerplexityFigures;
  seconds: number;
}

/**
 * One model's quality on data: top-1 accuracy of a classifier on labelled samples (as `validate` computes it), or
 * for a language model over token ids the perplexity of its next-token predictions over token windows. Each window is
 * one sequence (positions 0 … T−1, an empty cache, no context carried over from the previous window); every token
 * after the first of a window is predicted from those before it: perplexity = exp(mean NLL), bits per byte = mean
 * NLL / ln 2 when the tokens are the bytes of a text.
 */
export async function evaluateModel(model: Model | string, source: string, opts: EvaluateOptions = {}): Promise<EvaluationReport> {
  const t0 = performance.now();
  const ir = typeof model === 'string' ? loadModel(model) : model;
  const { session, ep, notice } = await openSession(ir, { ...(opts.ep ? { ep: opts.ep } : {}) });
  try {
    const specs = inputSpecs(session);
    if (opts.perplexity && !tokenInputs(specs)) fail('--perplexity needs a language model over token ids (an input_ids input); this model takes tensors');
    const samples = await loadSamples(ir, specs, source, {
      dataOptions: { split: 'test', ...opts.dataOptions },
      ...(opts.window !== undefined ? { window: opts.window } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    });
    const report: EvaluationReport = {
      model: typeof model === 'string' ? model : 'model', ep, ...(notice ? { notice } : {}),
      data: { source: samples.description, samples: samples.count }, seconds: 0,
    };
    if (samples.tokens) {
      const { windows, vocab } = samples.tokens;
      const batch = samples.fixedBatch ?? opts.batch ?? 16;
      const nll = new NllCounter();
      let output: string | undefined;
      for await (const { start, rows, out } of batches(session, samples, batch)) {
        output ??= logitsOutput(session, out, samples.fixedBatch ?? rows, windows.window);
        nll.add(out[output]!, windows.ids.subarray(start * windows.window, (start + rows) * windows.window), rows, windows.window);
      }
      const mean = nll.total / nll.count;
      report.perplexity = {
        output: output!, windows: samples.count, window: windows.window, predictions: nll.count, nll: mean, perplexity: Math.exp(mean),
        ...(windows.bytes && vocab === 256 ? { bitsPerByte: mean / Math.LN2 } : {}),
      };
    } else {
      if (!samples.labels) fail(`'${source}' has no labels: accuracy needs labelled samples`);
      const batch = samples.fixedBatch ?? opts.batch ?? 32;
      const counter = new AccuracyCounter();
      let classifier: number | undefined;
      for await (const { start, rows, out } of batches(session, samples, batch)) {
        const tensors = session.outputNames.map((n) => out[n]!);
        classifier ??= classifierOutput(tensors, samples.numClasses ?? 0) ?? fail('no [batch, classes] output covers every label: accuracy not computed');
        counter.add(tensors[classifier]!, samples.labels.subarray(start, start + rows), rows);
      }
      report.accuracy = { output: session.outputNames[classifier!]!, accuracy: counter.accuracy, samples: counter.total };
    }
    report.seconds = (performance.now() - t0) / 1000;
    return report;
  } finally {
    await session.release();
  }
}

/** Σ −log softmax(logits[t−1])[token t] over every window position t ≥ 1, in float64. */
class NllCounter {
  total = 0;
  count = 0;

  add(logits: ort.Tensor, ids: Int32Array, rows: number, window: number): void {
    const x = numbers(logits);
    const vocab = logits.dims[2]!;
    for (let r = 0; r < rows; r++) {
      for (let t = 1; t < window; t++) {
        const base = (r * window + t - 1) * vocab;
        let max = -Infinity;
        for (let v = 0; v < vocab; v++) max = Math.max(max, x[base + v]!);
        let sum = 0;
        for (let v = 0; v < vocab; v++) sum += Math.exp(x[base + v]! - max);
        this.total += max + Math.log(sum) - x[base + ids[r * window + t]!]!;
        this.count++;
      }
    }
  }
}

/** The [batch, sequence, vocab] logits: the output named 'logits', else the first of that shape. */
function logitsOutput(session: ort.InferenceSession, out: ort.InferenceSession.OnnxValueMapType, rows: number, window: number): string {
  const fits = (n: string) => { const d = out[n]!.dims; return d.length === 3 && d[0] === rows && d[1] === window; };
  const name = fits('logits') && session.outputNames.includes('logits') ? 'logits' : session.outputNames.find(fits);
  if (!name) fail(`no output of shape [batch, ${window}, vocab]: perplexity needs the logits of every position`);
  return name;
}

/** Runs every sample, `size` at a time. */
async function* batches(session: ort.InferenceSession, samples: SampleBatches, size: number): AsyncGenerator<{ start: number; rows: number; out: ort.InferenceSession.OnnxValueMapType }> {
  for (let start = 0; start < samples.count; start += size) {
    const rows = Math.min(size, samples.count - start);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(samples.feeds(start, rows));
    } catch (e) {
      fail(`onnxruntime failed to run the model: ${(e as Error).message.split('\n')[0]}`);
    }
    yield { start, rows, out };
  }
}

/** The report as a few lines for a terminal. */
export function formatEvaluation(r: EvaluationReport): string {
  const lines = [`evaluated ${r.model} on ${r.ep.toUpperCase()}: ${r.data.source}`];
  if (r.accuracy) lines.push(`  accuracy     ${(100 * r.accuracy.accuracy).toFixed(2)}% of ${r.accuracy.samples} samples (output ${r.accuracy.output})`);
  const p = r.perplexity;
  if (p) {
    lines.push(`  perplexity   ${p.perplexity.toFixed(4)} over ${p.predictions} predicted tokens (${p.windows} windows of ${p.window}, stride ${p.window})`);
    lines.push(`  NLL          ${p.nll.toFixed(5)} nats per token${p.bitsPerByte !== undefined ? `, ${p.bitsPerByte.toFixed(4)} bits per byte` : ''}`);
  }
  lines.push(`  time         ${r.seconds.toFixed(1)} s`);
  return lines.join('\n');
}
