import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import type { Model } from '../ir/model.js';
import { encodeModel } from '../ir/save.js';
import type { CostCurve, CostProbe, LatencyMeter, SavingsTable } from '../passes/policy/latencyTable.js';
import { concreteDims, inputSpecs, randomBatch } from './inputs.js';
import { median } from './latency.js';
import { defaultCacheDir, readTable, tablePath, writeTable, type TableIdentity } from './latencyCache.js';
import { ort, ortVersion } from './ort.js';
import { openSession, type EpChoice, type ExecutionProvider } from './session.js';

export interface OrtMeterOptions {
  ep: EpChoice;
  /** Batch size every timing uses. */
  batch: number;
  /** onnxruntime intra-op threads; 0 or undefined: its default (one per core). */
  threads?: number;
  /** Folder of the lookup tables (defaultCacheDir() when undefined); false: keep the table in memory only. */
  cacheDir?: string | false;
  seed?: number;
}

/** A LatencyMeter on onnxruntime, plus what it ran on; `close` releases the original's session. */
export interface OrtLatencyMeter extends LatencyMeter {
  readonly ep: ExecutionProvider;
  readonly notice?: string;
  close(): Promise<void>;
}

/** Timing rounds: at least MIN_ROUNDS after WARMUP, more until MIN_MS of timed work, at most MAX_ROUNDS. */
const WARMUP = 2;
const MIN_ROUNDS = 7;
const MAX_ROUNDS = 40;
const MIN_MS = 400;
/** The final comparison decides the result: it gets more. */
const COMPARE_MIN_ROUNDS = 15;
const COMPARE_MIN_MS = 1500;

/**
 * Times models on onnxruntime for --target-latency. Every timing alternates between the models it compares
 * (round-robin), so a change in machine load hits them alike, and takes medians. A probe's savings are measured on
 * its full-width model and its cut widths in one round-robin, then divided by the original's latency, measured
 * when the table is (re)built. The table is keyed by the model's sha256, the provider, batch and threads, and by
 * onnxruntime's version and the CPU model.
 */
export async function createLatencyMeter(original: Model, opts: OrtMeterOptions): Promise<OrtLatencyMeter> {
  const threads = opts.threads ?? 0;
  const sessionOptions = threads > 0 ? { intraOpNumThreads: threads } : {};
  const opened = await openSession(original, { ep: opts.ep, sessionOptions });
  const ep = opened.ep;
  const seed = opts.seed ?? 0;
  const feedsFor = (s: ort.InferenceSession): Record<string, ort.Tensor> =>
    Object.fromEntries(inputSpecs(s).map((spec) => [spec.name, randomBatch(spec, concreteDims(spec, opts.batch), Array.from({ length: opts.batch }, (_, i) => i), seed)]));
  const originalFeeds = feedsFor(opened.session);
  const id: TableIdentity = {
    model: createHash('sha256').update(encodeModel(original)).digest('hex'), ep, batch: opts.batch, threads,
    onnxruntime: ortVersion(), cpu: cpus()[0]?.model.trim() ?? 'unknown',
  };
  const dir = opts.cacheDir === false ? undefined : opts.cacheDir ?? defaultCacheDir();
  const path = dir ? tablePath(dir, id) : undefined;

  const open = async (m: Model): Promise<ort.InferenceSession> => (await openSession(m, { ep, sessionOptions })).session;

  return {
    ep,
    ...(opened.notice ? { notice: opened.notice } : {}),
    async savings(probes: readonly CostProbe[], onProgress?: (done: number, total: number, label: string) => void): Promise<SavingsTable> {
      let table = (path && readTable(path, id)) || undefined;
      const missing = (p: CostProbe): number[] => p.widths.filter((w) => !table?.groups[p.key]?.points.some((q) => q.units === w));
      const todo = probes.filter((p) => missing(p).length > 0);
      let measured = 0;
      if (todo.length > 0 && !table) {
        const [times] = await roundRobin([{ session: opened.session, feeds: originalFeeds }], MIN_ROUNDS, MIN_MS);
        table = { version: 1, ...id, modelMs: median(times!), groups: {} };
      }
      for (const [i, p] of todo.entries()) {
        onProgress?.(i, todo.length, `latency table: ${p.key}`);
        const widths = missing(p);
        const models = [p.build(p.units), ...widths.map((w) => p.build(w))];
        const sessions: { session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[] = [];
        try {
          for (const m of models) {
            const session = await open(m);
            sessions.push({ session, feeds: feedsFor(session) });
          }
          const times = await roundRobin(sessions, MIN_ROUNDS, MIN_MS);
          const full = median(times[0]!);
          const entry = (table!.groups[p.key] ??= { units: p.units, points: [] });
          widths.forEach((w, k) => entry.points.push({ units: w, saving: (full - median(times[k + 1]!)) / table!.modelMs }));
          entry.points.sort((a, b) => b.units - a.units);
          measured += widths.length;
        } finally {
          for (const s of sessions) await s.session.release();
        }
        if (path && dir) writeTable(path, dir, table!);
      }
      onProgress?.(todo.length, todo.length, 'latency table');
      const curves = new Map<string, CostCurve>();
      for (const p of probes) {
        const g = table?.groups[p.key];
        if (g) curves.set(p.key, { units: g.units, points: g.points });
      }
      const asked = probes.reduce((s, p) => s + p.widths.length, 0);
      return { curves, modelMs: table?.modelMs ?? 0, measured, cached: asked - measured, ...(path ? { path } : {}) };
    },
    async compare(candidate: Model): Promise<{ originalMs: number; prunedMs: number }> {
      const session = await open(candidate);
      try {
        const [a, b] = await roundRobin([{ session: opened.session, feeds: originalFeeds }, { session, feeds: feedsFor(session) }], COMPARE_MIN_ROUNDS, COMPARE_MIN_MS);
        return { originalMs: median(a!), prunedMs: median(b!) };
      } finally {
        await session.release();
      }
    },
    async close() {
      await opened.session.release();
    },
  };
}

/** Milliseconds of each run, per session, over rounds that run every session once (after WARMUP untimed rounds). */
async function roundRobin(sessions: { session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[], minRounds: number, minMs: number): Promise<number[][]> {
  const times: number[][] = sessions.map(() => []);
  let spent = 0;
  for (let round = 0; round < WARMUP + MAX_ROUNDS; round++) {
    if (round >= WARMUP + minRounds && spent >= minMs) break;
    for (const [i, s] of sessions.entries()) {
      const t0 = performance.now();
      await s.session.run(s.feeds);
      const dt = performance.now() - t0;
      if (round >= WARMUP) {
        times[i]!.push(dt);
        spent += dt;
      }
    }
  }
  return times;
}

