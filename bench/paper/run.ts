/**
 * The paper's experiment on this machine: `npm run bench:paper` (about an hour on 2 cores; see bench/paper/SUMMARY.md)
 * or `npm run bench:paper -- --quick` (1 seed, 10 images per class: a smoke test of a few minutes).
 *
 *   --quick        the smoke-test plan; results go to bench/out/paper/quick/ instead of bench/results/
 *   --fresh        ignore the resume cache (bench/out/paper/<plan>/runs.jsonl) and pruned models from earlier runs
 *   --cli          run `node dist/cli/main.js` (npm run build first) instead of the library API in this process
 *   --out <dir>    where paper.md, paper.json and the SVGs go
 *   --jobs <n>     worker processes (default 2, one per core of the machine the hour was measured on)
 *   --report-only  rebuild the report from the cache without running anything new
 *   --reuse <paper.json>  take the runs an earlier report holds (same budget) instead of rerunning them: new arms only
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPlan, quickPlan, ROOT, SOURCES_DIR } from './config.js';
import { Results } from './aggregate.js';
import { makeEngine, missingCommands } from './engine.js';
import { reuseRuns, runExperiment } from './experiment.js';
import { renderPlots } from './plots.js';
import { renderReport, type ReportContext } from './report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' }, fresh: { type: 'boolean' }, cli: { type: 'boolean' }, out: { type: 'string' }, 'report-only': { type: 'boolean' },
    jobs: { type: 'string', default: '2' }, worker: { type: 'string' }, reuse: { type: 'string' },
  },
});

function write(path: string, text: string): void {
  writeFileSync(`${path}.tmp-${process.pid}`, text);
  renameSync(`${path}.tmp-${process.pid}`, path);
}

async function main(): Promise<void> {
  const plan = args.quick ? quickPlan() : defaultPlan();
  const work = join(ROOT, 'bench', 'out', 'paper', plan.name);
  const out = args.out ?? (args.quick ? join(work, 'results') : join(ROOT, 'bench', 'results'));
  if (args.cli) {
    const missing = missingCommands();
    if (missing) throw new Error(`--cli: ${missing}`);
  }
  const engine = await makeEngine(args.cli ? 'cli' : 'library');
  if (!args.cli && engine.kind.includes('CLI')) {
    const missing = missingCommands();
    if (missing) throw new Error(`the library API is incomplete (${engine.kind}) and ${missing}`);
  }
  if (args.worker) {
    const [index, count] = args.worker.split('/').map(Number) as [number, number];
    await runExperiment(plan, engine, work, { worker: { index, count } });
    return;
  }
  const jobs = Number(args.jobs);
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`--jobs must be a positive integer, got '${args.jobs}'`);
  process.stderr.write(`bench:paper — ${plan.name} plan, ${engine.kind}, ${jobs} worker(s), work dir ${relative(ROOT, work)}\n`);
  const began = performance.now();
  if (args.fresh && !args['report-only']) rmSync(work, { recursive: true, force: true });
  if (args.reuse) process.stderr.write(`reused ${reuseRuns(plan, work, resolve(args.reuse))} runs of ${relative(ROOT, args.reuse)}\n`);
  if (jobs > 1 && !args['report-only']) await runWorkers(jobs);
  const log = await runExperiment(plan, engine, work, { reportOnly: !!args['report-only'] || jobs > 1 });
  if (!args['report-only']) log.seconds = Math.round((performance.now() - began) / 10) / 100;
  else log.seconds = previousSeconds(join(out, 'paper.json')) ?? log.seconds; // the run's wall clock, not this re-render's

  mkdirSync(out, { recursive: true });
  const plots = renderPlots(plan, new Results(log.results));
  for (const [name, svg] of Object.entries(plots)) write(join(out, name), svg);
  const ctx: ReportContext = {
    plan, log, engine: engine.kind, plots: Object.keys(plots),
    sources: JSON.parse(readFileSync(join(SOURCES_DIR, 'sources.json'), 'utf8')) as ReportContext['sources'],
  };
  write(join(out, 'paper.md'), renderReport(ctx));
  write(join(out, 'paper.json'), JSON.stringify({ plan, engine: engine.kind, ...log }, null, 1) + '\n');
  process.stderr.write(`wrote ${relative(ROOT, join(out, 'paper.md'))} (${log.results.length} runs, ${(log.seconds / 60).toFixed(1)} min)\n`);
}

function previousSeconds(path: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { seconds?: number }).seconds;
  } catch {
    return undefined;
  }
}

/** The same script as N worker processes (tsx's loader flags passed on), each taking every N-th job. */
async function runWorkers(n: number): Promise<void> {
  const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--fresh' && a !== '--jobs' && all[i - 1] !== '--jobs' && !a.startsWith('--jobs='));
  const codes = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<number>((done) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...passOn, '--worker', `${i}/${n}`], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => done(code ?? 1));
  })));
  if (codes.some((c) => c !== 0)) throw new Error(`worker exit codes ${codes.join(', ')}: rerun to resume (finished runs are cached)`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:paper: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
