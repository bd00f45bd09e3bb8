import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import type { Model } from '../ir/model.js';
import { decodeModel } from '../ir/load.js';
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

/**
 * A LatencyMeter on onnxruntime; `ep`, `notice` and `batch` (the model's own when its inputs fix it) are known once
 * it has timed something; `close` releases it.
 */
export interface OrtLatencyMeter extends LatencyMeter {
  readonly ep: ExecutionProvider | undefined;
  readonly notice: string | undefined;
  readonly batch: number;
  readonly clock: Clock;
  close(): Promise<void>;
}

/** Timing rounds: at least MIN_ROUNDS after WARMUP, more until MIN_MS of timed work, at most MAX_ROUNDS. */
const WARMUP = 2;
const MIN_ROUNDS = 9;
const MAX_ROUNDS = 100;
const MIN_MS = 400;
/** The final comparison decides the result: it gets more. */
const COMPARE_MIN_ROUNDS = 15;
const COMPARE_MIN_MS = 1500;

/**
 * What a run's time is: 'cpu' — the process's CPU time during the run — when onnxruntime runs single-threaded on the
 * calling thread: that is the run's latency without the time other processes hold the core, so figures from a
 * shared, loaded machine stay consistent (on a quiet one the two agree); 'wall' with several threads, where CPU
 * time adds the threads up.
 */
export type Clock = 'cpu' | 'wall';

interface Ready {
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
  ep: ExecutionProvider;
  id: TableIdentity;
  path: string | undefined;
}

/**
 * Times models on onnxruntime for --target-latency. Every timing alternates between the models it compares
 * (round-robin), so a change in machine load hits them alike, and takes medians. A probe's savings are measured on
 * its full-width model and its cut widths in one round-robin, then divided by the original's latency, measured
 * when the table is (re)built. The table is keyed by the model's sha256, the provider, batch and threads, and by
 * onnxruntime's version and the CPU model. The original is captured now (the pass prunes it in place later);
 * onnxruntime is only started on first use, so options that fail the pass's checks cost nothing.
 */
export function createLatencyMeter(original: Model, opts: OrtMeterOptions): OrtLatencyMeter {
  const threads = opts.threads ?? 0;
  const sessionOptions = threads > 0 ? { intraOpNumThreads: threads } : {};
  const clock: Clock = threads === 1 ? 'cpu' : 'wall';
  const bytes = encodeModel(original);
  const seed = opts.seed ?? 0;
  // A model whose inputs fix the batch size runs at that size (its sub-graphs' inputs are fixed likewise).
  const feedsFor = (s: ort.InferenceSession): Record<string, ort.Tensor> => Object.fromEntries(inputSpecs(s).map((spec) => {
    const batch = spec.fixedBatch ?? opts.batch;
    return [spec.name, randomBatch(spec, concreteDims(spec, batch), Array.from({ length: batch }, (_, i) => i), seed)];
  }));
  let ready: Promise<Ready> | undefined;
  let notice: string | undefined;
  let ep: ExecutionProvider | undefined;
  let batch = opts.batch;
  const start = (): Promise<Ready> => (ready ??= (async () => {
    const opened = await openSession(decodeModel(bytes, { baseDir: original.baseDir }), { ep: opts.ep, sessionOptions });
    notice = opened.notice;
    ep = opened.ep;
    batch = inputSpecs(opened.session).find((spec) => spec.fixedBatch !== undefined)?.fixedBatch ?? opts.batch;
    const id: TableIdentity = {
      model: createHash('sha256').update(bytes).digest('hex'), ep: opened.ep, batch, threads, clock,
      onnxruntime: ortVersion(), cpu: cpus()[0]?.model.trim() ?? 'unknown',
    };
    const dir = opts.cacheDir === false ? undefined : opts.cacheDir ?? defaultCacheDir();
    return { session: opened.session, feeds: feedsFor(opened.session), ep: opened.ep, id, path: dir ? tablePath(dir, id) : undefined };
  })());
  const open = async (m: Model, on: ExecutionProvider): Promise<ort.InferenceSession> => (await openSession(m, { ep: on, sessionOptions })).session;

  return {
    get ep() {
      return ep;
    },
    get notice() {
      return notice;
    },
    get batch() {
      return batch;
    },
    clock,
    async savings(probes: readonly CostProbe[], onProgress?: (done: number, total: number, label: string) => void): Promise<SavingsTable> {
      const r = await start();
      let table = (r.path && readTable(r.path, r.id)) || undefined;
      const missing = (p: CostProbe): number[] => p.widths.filter((w) => !table?.groups[p.key]?.points.some((q) => q.units === w));
      const todo = probes.filter((p) => missing(p).length > 0);
      let measured = 0;
      if (todo.length > 0 && !table) {
        const [times] = await roundRobin([{ session: r.session, feeds: r.feeds }], MIN_ROUNDS, MIN_MS, clock);
        table = { version: 1, ...r.id, modelMs: median(times!), groups: {} };
      }
      for (const [i, p] of todo.entries()) {
        onProgress?.(i, todo.length, `latency table: ${p.key}`);
        const widths = missing(p);
        const models = [p.build(p.units), ...widths.map((w) => p.build(w))];
        const sessions: { session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[] = [];
        try {
          for (const m of models) {
            const session = await open(m, r.ep);
            sessions.push({ session, feeds: feedsFor(session) });
          }
          const times = await roundRobin(sessions, MIN_ROUNDS, MIN_MS, clock);
          const full = median(times[0]!);
          const entry = (table!.groups[p.key] ??= { units: p.units, points: [] });
          widths.forEach((w, k) => entry.points.push({ units: w, saving: (full - median(times[k + 1]!)) / table!.modelMs }));
          entry.points.sort((a, b) => b.units - a.units);
          measured += widths.length;
        } finally {
          for (const s of sessions) await s.session.release();
        }
        // Written after every probe: an interrupted run keeps what it measured.
        if (r.path) writeTable(r.path, table!);
      }
      onProgress?.(todo.length, todo.length, 'latency table');
      const curves = new Map<string, CostCurve>();
      for (const p of probes) {
        const g = table?.groups[p.key];
        if (g) curves.set(p.key, { units: g.units, points: g.points });
      }
      const asked = probes.reduce((s, p) => s + p.widths.length, 0);
      return { curves, modelMs: table?.modelMs ?? 0, measured, cached: asked - measured, ...(r.path ? { path: r.path } : {}) };
    },
    async compare(candidate: Model): Promise<{ originalMs: number; prunedMs: number }> {
      const r = await start();
      const session = await open(candidate, r.ep);
      try {
        const [a, b] = await roundRobin([{ session: r.session, feeds: r.feeds }, { session, feeds: feedsFor(session) }], COMPARE_MIN_ROUNDS, COMPARE_MIN_MS, clock);
        return { originalMs: median(a!), prunedMs: median(b!) };
      } finally {
        await session.release();
      }
    },
    async close() {
      if (ready) await (await ready).session.release();
    },
  };
}

/** Milliseconds of each run by `clock`, per session, over rounds that run every session once (after WARMUP untimed rounds). */
async function roundRobin(sessions: { session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }[], minRounds: number, minMs: number, clock: Clock): Promise<number[][]> {
  const times: number[][] = sessions.map(() => []);
  let spent = 0;
  for (let round = 0; round < WARMUP + MAX_ROUNDS; round++) {
    if (round >= WARMUP + minRounds && spent >= minMs) break;
    for (const [i, s] of sessions.entries()) {
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      await s.session.run(s.feeds);
      const wall = performance.now() - t0;
      const used = process.cpuUsage(cpu);
      const dt = clock === 'wall' ? wall : (used.user + used.system) / 1000;
      if (round >= WARMUP) {
        times[i]!.push(dt);
        spent += dt;
      }
    }
  }
  return times;
}
