import type { ort } from './ort.js';

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
