import type { Model } from '../ir/model.js';
import { concreteDims, inputSpecs, randomBatch } from './inputs.js';
import type { ort } from './ort.js';
import { openSession, type EpChoice } from './session.js';

export interface Timing {
  /** Median wall time of one run, milliseconds. */
  medianMs: number;
  /** Samples per second at that median. */
  throughput: number;
}

export interface LatencyPoint {
  batch: number;
  original: Timing;
  pruned: Timing;
  /** pruned / original median latency (below 1: the pruned model is faster). */
  ratio: number;
}

/**
 * Median latency of both sessions on the same feeds. Runs alternate between the two models so drift in machine load
 * (other processes, clock changes) hits both alike; warm-up runs let onnxruntime allocate and tune first.
 */
export async function measureLatency(original: ort.InferenceSession, pruned: ort.InferenceSession, feeds: Record<string, ort.Tensor>, batch: number, runs: number, warmup: number): Promise<LatencyPoint> {
  for (let i = 0; i < warmup; i++) {
    await original.run(feeds);
    await pruned.run(feeds);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    ta.push(await timeRun(original, feeds));
    tb.push(await timeRun(pruned, feeds));
  }
  const a = timing(ta, batch);
  const b = timing(tb, batch);
  return { batch, original: a, pruned: b, ratio: b.medianMs / a.medianMs };
}

async function timeRun(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  const t0 = performance.now();
  await session.run(feeds);
  return performance.now() - t0;
}

function timing(ms: number[], batch: number): Timing {
  const medianMs = median(ms);
  return { medianMs, throughput: (batch * 1000) / medianMs };
}

export function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Latency of a model before and after pruning, as reports show it. */
export interface LatencyComparison {
  ep: string;
  /** onnxruntime intra-op threads; 0: its default (one per core). */
  threads: number;
  points: LatencyPoint[];
}

/**
 * Times two models (original, pruned) on random inputs at each batch size, in alternation (measureLatency), on the
 * provider `ep` resolves to. A model with a fixed batch size is timed at that size only.
 */
export async function compareLatency(original: Model | string, pruned: Model | string, o: { ep: EpChoice; batches: number[]; threads?: number; runs?: number; warmup?: number; seed?: number }): Promise<LatencyComparison> {
  const threads = o.threads ?? 0;
  const sessionOptions = threads > 0 ? { intraOpNumThreads: threads } : {};
  const a = await openSession(original, { ep: o.ep, sessionOptions });
  let b: ort.InferenceSession | undefined;
  try {
    b = (await openSession(pruned, { ep: a.ep, sessionOptions })).session;
    const specs = inputSpecs(a.session);
    const fixed = specs.find((s) => s.fixedBatch !== undefined)?.fixedBatch;
    const points: LatencyPoint[] = [];
    for (const batch of fixed !== undefined ? [fixed] : [...new Set(o.batches)]) {
      const ids = Array.from({ length: batch }, (_, i) => i);
      const feeds = Object.fromEntries(specs.map((s) => [s.name, randomBatch(s, concreteDims(s, 1), ids, o.seed ?? 0)]));
      points.push(await measureLatency(a.session, b, feeds, batch, o.runs ?? 10, o.warmup ?? 3));
    }
    return { ep: a.ep, threads, points };
  } finally {
    await a.session.release();
    await b?.release();
  }
}
