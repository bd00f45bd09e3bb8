/**
 * Issue 12's experiment: which pruning criterion keeps a model best, with and without bias compensation.
 *
 *  - lm: the trained byte-level decoder (fixtures/trained/lm_kjv.onnx), FFN neurons and attention heads (whole KV
 *    groups, the same count in every layer) pruned at each ratio, the residual stream left whole; held-out
 *    perplexity and bits per byte on the eval split, params and MACs per token from the prune report, and
 *    single-thread onnxruntime latency of one 128-byte window per pruned shape.
 *  - image: fixtures/trained/vgg_fashion.onnx, `--scope all --ratio 0.5`, no fine-tuning, top-1 accuracy.
 *  - finetune: the LM's arms at the headline ratio after the same short `finetune --objective lm` budget.
 *
 *    npm run build && /usr/bin/python3 bench/lm/prepare_text.py && nice npx tsx bench/lm/experiment.ts [lm|image|finetune|latency|tables]... [--full] [--jobs 2]
 *
 * Every arm is the built CLI as a user runs it (the commands are in the results). Results are cached one line per
 * arm in bench/out/lm/experiment/runs.jsonl, so an interrupted run resumes; `tables` only rewrites
 * bench/results/lm.md and lm_ratio.svg from that cache. Seeds: `random` draws its units per seed (3 seeds at every
 * ratio); the calibration windows are a seeded draw, so arms that read calibration run 3 seeds up to the headline
 * ratio and seed 0 above it (`--full`: 3 seeds everywhere).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ort } from '../../src/runtime/ort.js';
import { openSession } from '../../src/runtime/session.js';
import { measureLatency } from '../../src/runtime/latency.js';
import { compensatesByDefault } from '../../src/passes/scoring/index.js';
import { CALIB_TEXT, CLI, CRITERIA, EVAL_LIMIT, EVAL_TEXT, FASHION, FINETUNE_ARGS, FINETUNE_CRITERIA, HEADLINE_RATIO, isCalibrated, LM, LM_PRUNE, OUT, RATIOS, relative, ROOT, SEEDS, TRAIN_TEXT, VGG, WINDOW, type Arm, type Criterion, type Latency } from './config.js';
import { writeReport } from './report.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { full: { type: 'boolean', default: false }, jobs: { type: 'string', default: '2' } },
});
const RUNS = join(OUT, 'runs.jsonl');
const jobs = Number(args.jobs);

interface Task { key: string; run: () => Promise<Arm> }

/** The built CLI, asynchronously (so `--jobs` arms run side by side); stdout is the result. */
function cli(argv: string[]): Promise<string> {
  process.stderr.write(`$ onnx-cprune ${argv.map(relative).join(' ')}\n`);
  return new Promise((done, failed) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => (code === 0 ? done(out) : failed(new Error(`onnx-cprune ${argv.map(relative).join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}`))));
  });
}

interface Evaluation { metric: number; bitsPerByte?: number }

async function evaluate(model: string, data: string, extra: string[] = []): Promise<Evaluation> {
  const r = JSON.parse(await cli(['evaluate', model, '--data', data, '--ep', 'cpu', '--json', ...extra])) as { accuracy?: { accuracy: number }; perplexity?: { perplexity: number; bitsPerByte?: number } };
  if (r.perplexity) return { metric: r.perplexity.perplexity, ...(r.perplexity.bitsPerByte !== undefined ? { bitsPerByte: r.perplexity.bitsPerByte } : {}) };
  return { metric: r.accuracy!.accuracy };
}

/** The LM's eval: the same seeded 1000 of the 3124 windows for every arm (the full split is evaluated once for the original). */
const LM_EVAL = ['--window', String(WINDOW), '--limit', String(EVAL_LIMIT), '--seed', '0', '--batch', '64'];

interface Part { name: Arm['part']; model: string; scope: string[]; calib: string; evalData: string; evalArgs: string[]; ratios: number[] }

const PARTS: Part[] = [
  { name: 'lm', model: LM, scope: LM_PRUNE, calib: CALIB_TEXT, evalData: EVAL_TEXT, evalArgs: LM_EVAL, ratios: RATIOS },
  { name: 'image', model: VGG, scope: ['--scope', 'all'], calib: FASHION, evalData: FASHION, evalArgs: [], ratios: [0.5] },
];

/** Which seeds an arm runs: see the header. */
function seedsFor(part: Part, criterion: Criterion, ratio: number, compensate: boolean): number[] {
  if (criterion === 'random') return SEEDS;
  const readsCalibration = compensate || isCalibrated(criterion);
  if (!readsCalibration) return [0];
  return part.name === 'lm' && (args.full || ratio <= HEADLINE_RATIO) ? SEEDS : [0];
}

const prunedPath = (part: string, criterion: string, ratio: number, compensate: boolean, seed: number): string =>
  join(OUT, part, `${criterion}-r${ratio}-${compensate ? 'comp' : 'plain'}-s${seed}.onnx`);

function pruneTasks(part: Part): Task[] {
  const tasks: Task[] = [{
    key: `${part.name}|none`,
    run: async () => ({ part: part.name, criterion: 'none', ratio: 0, compensate: false, seed: 0, ...(await evaluate(part.model, part.evalData, part.evalArgs)), command: `onnx-cprune evaluate ${relative(part.model)} --data ${relative(part.evalData)} ${part.evalArgs.join(' ')}` }),
  }];
  for (const ratio of part.ratios) {
    for (const criterion of CRITERIA) {
      for (const compensate of [false, true]) {
        for (const seed of seedsFor(part, criterion, ratio, compensate)) {
          tasks.push({ key: `${part.name}|${criterion}|${ratio}|${compensate}|${seed}`, run: () => pruneArm(part, criterion, ratio, compensate, seed) });
        }
      }
    }
  }
  return tasks;
}

async function pruneArm(part: Part, criterion: Criterion, ratio: number, compensate: boolean, seed: number): Promise<Arm> {
  const out = prunedPath(part.name, criterion, ratio, compensate, seed);
  mkdirSync(join(OUT, part.name), { recursive: true });
  const report = `${out}.json`;
  // Calibration is only read where it changes the result, as a user would run it.
  const calib = compensate || isCalibrated(criterion) ? ['--calib', part.calib, '--calib-samples', '128', compensate ? '--compensate' : '--no-compensate'] : [];
  const argv = [part.model, '-o', out, ...part.scope, '--ratio', String(ratio), '--method', criterion, ...calib, '--seed', String(seed), '--ep', 'cpu', '-q'];
  const t0 = performance.now();
  await cli([...argv, '--report', report]);
  const seconds = (performance.now() - t0) / 1000;
  const r = JSON.parse(readFileSync(report, 'utf8')) as { params: { before: number; after: number }; macs: { before: number; after: number }; groups: { producers: string[]; channels: number; kept: number[]; declined?: string }[] };
  const widths = r.groups.filter((g) => !g.declined).map((g) => `${g.kept.length}/${g.channels}`);
  return {
    part: part.name, criterion, ratio, compensate, seed, ...(await evaluate(out, part.evalData, part.evalArgs)),
    params: r.params.after, paramsBefore: r.params.before, macs: r.macs.after, macsBefore: r.macs.before, widths, pruneSeconds: Math.round(seconds * 10) / 10,
    command: `onnx-cprune ${argv.map(relative).join(' ')}`,
  };
}

/**
 * The headline-ratio LM arms (seed 0, the compensation a user gets by default) after the same short fine-tuning, then
 * the same evaluation.
 */
function finetuneTasks(done: Map<string, Arm>): Task[] {
  return FINETUNE_CRITERIA.flatMap((criterion) => {
    // What `prune` does without --compensate/--no-compensate: calibration is only given to the calibrated criteria.
    const compensate = isCalibrated(criterion) && compensatesByDefault(criterion);
    // Every pruning seed the grid ran (random's units, the calibration draw); fine-tuning's own seed stays 0.
    return SEEDS.flatMap((seed) => finetuneTask(done, criterion, compensate, seed));
  });
}

/** One fine-tuning arm: the grid's pruned model of that seed (none when the grid has not run it). */
function finetuneTask(done: Map<string, Arm>, criterion: Criterion, compensate: boolean, seed: number): Task[] {
  const source = `lm|${criterion}|${HEADLINE_RATIO}|${compensate}|${seed}`;
  const pruned = done.get(source);
  if (!pruned) return [];
  return [{
    key: `finetune|${criterion}|${HEADLINE_RATIO}|${compensate}|${seed}|${FINETUNE_ARGS.join(' ')}`,
    run: async () => {
      const input = prunedPath('lm', criterion, HEADLINE_RATIO, compensate, seed);
      const out = input.replace(/\.onnx$/, '-tuned.onnx');
      const argv = ['finetune', input, '-o', out, '--data', TRAIN_TEXT, ...FINETUNE_ARGS, '--json'];
      const t0 = performance.now();
      await cli(argv);
      const seconds = (performance.now() - t0) / 1000;
      return {
        ...pruned, part: 'finetune' as const, ...(await evaluate(out, EVAL_TEXT, LM_EVAL)), before: pruned.metric, finetuneSeconds: Math.round(seconds),
        command: `onnx-cprune ${argv.slice(0, -1).map(relative).join(' ')}`,
      };
    },
  }];
}

/** Single-thread latency of one 128-byte window (batch 1), per pruned shape, alternating with the original. */
async function latencies(done: Map<string, Arm>): Promise<Latency[]> {
  const ids = new ort.Tensor('int64', BigInt64Array.from({ length: WINDOW }, (_, i) => BigInt(32 + (i % 90))), [1, WINDOW]);
  const options = { ep: 'cpu' as const, sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } };
  const original = (await openSession(LM, options)).session;
  const out: Latency[] = [];
  try {
    for (const ratio of RATIOS) {
      for (const compensate of [false, true]) {
        // The shape is the ratio's; every criterion at one ratio and compensation setting times alike (l2 stands for them).
        const file = prunedPath('lm', 'l2', ratio, compensate, 0);
        if (!existsSync(file) || !done.has(`lm|l2|${ratio}|${compensate}|0`)) continue;
        const pruned = (await openSession(file, options)).session;
        try {
          const p = await measureLatency(original, pruned, { input_ids: ids }, 1, 100, 10);
          out.push({ ratio, compensate, originalMs: p.original.medianMs, prunedMs: p.pruned.medianMs, ratioToOriginal: p.ratio });
          process.stderr.write(`latency r${ratio} ${compensate ? 'comp' : 'plain'}: ${p.original.medianMs.toFixed(2)} → ${p.pruned.medianMs.toFixed(2)} ms\n`);
        } finally {
          await pruned.release();
        }
      }
    }
  } finally {
    await original.release();
  }
  return out;
}

function readRuns(): Map<string, Arm> {
  const done = new Map<string, Arm>();
  if (!existsSync(RUNS)) return done;
  for (const line of readFileSync(RUNS, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { key: string; arm: Arm };
    done.set(e.key, e.arm);
  }
  return done;
}

/** Runs the tasks not in the cache, `jobs` at a time, appending each result as it finishes. */
async function runTasks(tasks: Task[], done: Map<string, Arm>): Promise<void> {
  const todo = tasks.filter((t) => !done.has(t.key));
  let next = 0;
  let finished = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const task = todo[next++]!;
      const arm = await task.run();
      appendFileSync(RUNS, JSON.stringify({ key: task.key, arm }) + '\n');
      done.set(task.key, arm);
      finished++;
      const perTask = (performance.now() - t0) / 1000 / finished;
      process.stderr.write(`[${finished}/${todo.length}] ${task.key}: ${arm.metric.toFixed(4)} (~${Math.ceil(((todo.length - finished) * perTask) / 60)} min left)\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
}

async function main(): Promise<void> {
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`--jobs must be a positive integer, got '${args.jobs}'`);
  for (const f of [CLI, LM, CALIB_TEXT, EVAL_TEXT]) if (!existsSync(f)) throw new Error(`${relative(f)} is missing: npm run build, bench/lm/prepare_text.py (see bench/lm/README.md)`);
  mkdirSync(OUT, { recursive: true });
  const which = positionals.length ? positionals : ['lm', 'image'];
  const done = readRuns();
  const latencyFile = join(OUT, 'latency.json');
  for (const part of which) {
    if (part === 'lm' || part === 'image') {
      const p = PARTS.find((x) => x.name === part)!;
      const tasks = pruneTasks(p);
      if (part === 'lm') {
        // The original on the whole eval split too: ties the 1000-window subset to the fixture's recorded figure.
        tasks.push({ key: 'lm|none-full', run: async () => ({ part: 'lm', criterion: 'none', ratio: 0, compensate: false, seed: 0, full: true, ...(await evaluate(LM, EVAL_TEXT, ['--window', String(WINDOW)])), command: `onnx-cprune evaluate ${relative(LM)} --data ${relative(EVAL_TEXT)}` }) });
      }
      await runTasks(tasks, done);
      if (part === 'lm') appendFileSync(latencyFile, JSON.stringify(await latencies(done)) + '\n');
    } else if (part === 'latency') {
      appendFileSync(latencyFile, JSON.stringify(await latencies(done)) + '\n');
    } else if (part === 'finetune') {
      await runTasks(finetuneTasks(done), done);
    } else if (part !== 'tables') {
      throw new Error(`unknown part '${part}': lm, image, finetune, latency or tables`);
    }
  }
  writeReport(done, existsSync(latencyFile) ? (JSON.parse(readFileSync(latencyFile, 'utf8').trim().split('\n').pop()!) as Latency[]) : []);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/lm/experiment: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
