import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fail } from '../ir/errors.js';
import type { CostPoint } from '../passes/policy/latencyTable.js';

/**
 * The latency lookup table on disk: one JSON file per (model content, execution provider, batch, threads), holding
 * every group width measured so far. A file made on another onnxruntime version or CPU, or with another clock, is not
 * trusted (the layouts and kernels differ) and is replaced.
 */
/** What a table was measured for: the model (sha256 of its bytes), provider, batch, threads, clock, and where. */
export interface TableIdentity {
  model: string;
  ep: string;
  batch: number;
  /** Intra-op threads (0: onnxruntime's default). */
  threads: number;
  /** What a run's time is (see Clock in layerCosts.ts). */
  clock: 'cpu' | 'wall';
  onnxruntime: string;
  cpu: string;
}

export interface LatencyTableFile extends TableIdentity {
  version: 1;
  /** The original's median latency (ms) when the savings were measured; savings are fractions of it. */
  modelMs: number;
  groups: Record<string, { units: number; points: CostPoint[] }>;
}

/**
 * Where tables live unless --latency-cache says otherwise: $ONNX_CPRUNE_CACHE; else the OS cache folder —
 * $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows — under onnx-cprune/.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env.ONNX_CPRUNE_CACHE) return env.ONNX_CPRUNE_CACHE;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'onnx-cprune', 'cache');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'onnx-cprune');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'onnx-cprune');
}

export function tablePath(dir: string, id: TableIdentity): string {
  return join(dir, `latency-${id.model.slice(0, 16)}-${id.ep}-b${id.batch}-t${id.threads}.json`);
}

/** The stored table for `id`, or undefined when there is none (or it was made elsewhere: another version or CPU). */
export function readTable(path: string, id: TableIdentity): LatencyTableFile | undefined {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined; // missing or unreadable: measured afresh and rewritten
  }
  const t = data as Partial<LatencyTableFile>;
  const same = t.version === 1 && t.model === id.model && t.ep === id.ep && t.batch === id.batch && t.threads === id.threads && t.clock === id.clock
    && t.onnxruntime === id.onnxruntime && t.cpu === id.cpu && typeof t.modelMs === 'number' && typeof t.groups === 'object' && t.groups !== null;
  return same ? (t as LatencyTableFile) : undefined;
}

/** Writes the table atomically (a temporary file renamed over it), creating the folder. */
export function writeTable(path: string, table: LatencyTableFile): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, JSON.stringify(table, null, 1) + '\n');
    renameSync(tmp, path);
  } catch (e) {
    fail(`cannot write the latency table '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (set --latency-cache to a writable folder)`);
  }
}
