import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import { loadDataset } from '../../src/runtime/data/index.js';
import { CALIBRATION, ROOT, type ArmPrune, type Train } from './config.js';

/**
 * The two commands under test, behind one interface: the library API in this process when its module loads (no
 * reloading between runs), else the built CLI (`node dist/cli/main.js`). Both work on files, so either way every
 * arm sees exactly the same inputs.
 */

export interface PruneArgs extends ArmPrune {
  seed: number;
}

export interface FinetuneArgs {
  epochs: number;
  lr: number;
  batch: number;
  train: Train;
  seed: number;
  newHead: number;
}

/** The parts of the prune report the benchmark reads. */
export interface PruneSummary {
  params: { before: number; after: number };
  macs: { before: number; after: number };
  groups: { producers: string[]; channels: number; kept: number[]; iterations?: number; converged?: boolean; components?: number; density?: number; note?: string; declined?: string }[];
}

export interface Engine {
  /** 'library' or 'cli', for the report. */
  kind: string;
  prune(input: string, output: string, args: PruneArgs): Promise<PruneSummary>;
  finetune(input: string, data: string, output: string, args: FinetuneArgs): Promise<void>;
}

const CLI = join(ROOT, 'dist', 'cli', 'main.js');

// The library modules are imported by path at run time so the harness still loads (and falls back to the CLI)
// while a module is missing; their shapes are checked where they are used.
type PruneFn = (model: unknown, opts: Record<string, unknown>) => Promise<PruneSummary>;
type FinetuneFn = (model: unknown, data: unknown, opts: Record<string, unknown>) => Promise<unknown>;

async function tryImport<T>(path: string, name: string): Promise<T | undefined> {
  try {
    const mod = (await import(path)) as Record<string, unknown>;
    return typeof mod[name] === 'function' ? (mod[name] as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Library where it loads, CLI otherwise; `prefer: 'cli'` forces the CLI. */
export async function makeEngine(prefer: 'library' | 'cli' = 'library'): Promise<Engine> {
  const prune = prefer === 'library' ? await tryImport<PruneFn>('../../src/passes/centralityPrune.js', 'centralityPrune') : undefined;
  const tune = prefer === 'library' ? await tryImport<FinetuneFn>('../../src/train/finetune.js', 'finetune') : undefined;
  const kinds = [prune ? 'prune: library (calibrated arms: CLI)' : 'prune: CLI', tune ? 'finetune: library' : 'finetune: CLI'];
  // Calibration is measured by the CLI's prune command (onnxruntime), so calibrated arms always run the CLI.
  const uncalibrated = prune ? libraryPrune(prune) : cliPrune;
  return {
    kind: kinds.join(', '),
    prune: (input, output, args) => (args.calib ? cliPrune(input, output, args) : uncalibrated(input, output, args)),
    finetune: tune ? libraryFinetune(tune) : cliFinetune,
  };
}

/** What is missing for a run, or undefined when both commands are there. */
export function missingCommands(): string | undefined {
  if (!existsSync(CLI)) return `${CLI} is not built (npm run build)`;
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  const missing = ['prune', 'finetune'].filter((c) => !new RegExp(`^\\s+${c}\\b`, 'm').test(help.stdout ?? ''));
  return missing.length ? `the CLI lacks: ${missing.join(', ')}` : undefined;
}

function libraryPrune(prune: PruneFn): Engine['prune'] {
  return async (input, output, args) => {
    const model = loadModel(input);
    const report = await prune(model, { scope: 'dense', ...args });
    saveModel(model, output);
    return report;
  };
}

function libraryFinetune(finetune: FinetuneFn): Engine['finetune'] {
  return async (input, data, output, args) => {
    const model = loadModel(input);
    const dataset = await loadDataset(data);
    await finetune(model, dataset, { ...args, optimizer: 'adam', valSplit: 0, ep: 'cpu' });
    saveModel(model, output);
  };
}

function cli(args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`onnx-cprune ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
}

async function cliPrune(input: string, output: string, args: PruneArgs): Promise<PruneSummary> {
  const report = `${output}.report.json`;
  const opt = (name: string, v: unknown): string[] => (v === undefined ? [] : [`--${name}`, String(v)]);
  cli([input, '-o', output, '--scope', 'dense', '--quiet', '--report', report, '--method', args.method, '--ratio', String(args.ratio),
    ...opt('threshold', args.threshold), ...opt('keep', args.keep), ...opt('seed', args.seed),
    ...(args.calib ? ['--calib', CALIBRATION.dir, '--calib-samples', String(CALIBRATION.samples)] : []),
    ...(args.compensate === undefined ? [] : [args.compensate ? '--compensate' : '--no-compensate'])]);
  return JSON.parse(readFileSync(report, 'utf8')) as PruneSummary;
}

async function cliFinetune(input: string, data: string, output: string, a: FinetuneArgs): Promise<void> {
  cli(['finetune', input, '--data', data, '-o', output, '--epochs', String(a.epochs), '--lr', String(a.lr), '--batch', String(a.batch),
    '--optimizer', 'adam', '--train', a.train, '--new-head', String(a.newHead), '--val-split', '0', '--seed', String(a.seed), '--ep', 'cpu', '--no-progress']);
}
