/**
 * Whole-model pruning of VGG16 (~553 MB): `onnx-cprune vgg16.onnx -o out.onnx --scope all --ratio 0.3`, load →
 * score → rewrite → save, as a user runs it (the built CLI in a child process, wall time and peak RSS from
 * /usr/bin/time), plus a breakdown by the library API in another child (bench/prune-child.mjs: load, analyze, score
 * per group, rewrite, save, RSS after each phase).
 *
 *   npm run build && npx tsx bench/prune.ts [--runs 3] [--ratio 0.3] [--scope all] [--no-structured]
 *
 * Goal (issue 4): under 15 s on 2 cores, peak RSS under 2× the file size. Two inputs: the export's random weights
 * (every similarity graph is empty at τ = 0.2, so scoring is the Gram GEMMs alone) and a copy with low-rank
 * structured weights (graphs with edges: the centrality solver runs too). Each process runs alone; the CLI and the
 * library child alternate. The machine is shared: the load average is recorded with every run.
 * Writes bench/results/prune.md (between the bench markers; notes around them are kept).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { median } from '../src/runtime/latency.js';
import { bigModel, here, loadAverage, machineLine, requireBuild, structuredCopy, writeResults } from './bigModels.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    ratio: { type: 'string', default: '0.3' },
    scope: { type: 'string', default: 'all' },
    'no-structured': { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const ratio = Number(args.ratio);
const scope = args.scope!;

interface CliRun { wallS: number; peakKiB: number; timings: { analyzeMs: number; scoreMs: number; rewriteMs: number }; load: string }
interface GroupTime { label: string; ms: number; channels: number; kept: number; iterations?: number }
interface ChildRun {
  loadMs: number; pruneMs: number; saveMs: number; totalMs: number;
  timings: CliRun['timings'];
  params: { before: number; after: number }; macs: { before: number; after: number };
  groups: GroupTime[];
  rssAfterLoadKiB: number; rssAfterPruneKiB: number; peakBeforeSaveKiB: number; peakKiB: number;
  load: string;
}

requireBuild();
const inputs = [{ label: 'random weights (export)', path: bigModel('vgg16') }];
if (!args['no-structured']) {
  console.log('structured-weights copy: bench/out/vgg16-structured.onnx (made once, ~1 min)');
  inputs.push({ label: 'structured weights (rank-4 + noise)', path: structuredCopy(inputs[0]!.path, here('./out/vgg16-structured.onnx')) });
}
const out = here('./out/prune-bench.out.onnx');
const reportPath = here('./out/prune-bench.report.json');

function cliRun(model: string): CliRun {
  flushDisk();
  const load = loadAverage();
  const cli = [here('../dist/cli/main.js'), model, '-o', out, '--scope', scope, '--ratio', String(ratio), '--report', reportPath, '-q'];
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', process.execPath, ...cli], { encoding: 'utf8' });
  const m = /BENCH ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`the CLI failed (${r.status}): ${r.stderr}`);
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as { timings: CliRun['timings'] };
  return { wallS: Number(m[1]), peakKiB: Number(m[2]), timings: report.timings, load };
}

function childRun(model: string): ChildRun {
  flushDisk();
  const load = loadAverage();
  const r = spawnSync(process.execPath, [here('./prune-child.mjs'), model, out, JSON.stringify({ scope, ratio })], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`the library child failed (${r.status}): ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as Omit<ChildRun, 'load'>), load };
}

/** Earlier runs' written files are flushed first, so their writeback does not compete with this run's save. */
function flushDisk(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const s = (ms: number): string => (ms / 1000).toFixed(2);
const lines: string[] = [];
const say = (line = ''): void => {
  console.log(line);
  lines.push(line);
};

say(`Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}; \`npx tsx bench/prune.ts --runs ${runs} --ratio ${ratio} --scope ${scope}\`.`);
say(`Command timed: \`node dist/cli/main.js vgg16.onnx -o out.onnx --scope ${scope} --ratio ${ratio} --report r.json -q\` (wall and peak RSS by /usr/bin/time);`);
say('breakdown: bench/prune-child.mjs (library API, performance.now() marks, VmRSS/VmHWM). Medians of the runs; load average (1/5/15 min) at each start.');
const verdicts: string[] = [];
for (const input of inputs) {
  const size = statSync(input.path).size;
  readFileSync(input.path); // warm the page cache: the first read from disk is not what is measured
  const cliRuns: CliRun[] = [];
  const childRuns: ChildRun[] = [];
  for (let i = 0; i < runs; i++) {
    cliRuns.push(cliRun(input.path));
    childRuns.push(childRun(input.path));
    console.log(`  run ${i + 1}: CLI ${cliRuns.at(-1)!.wallS} s, library ${s(childRuns.at(-1)!.totalMs)} s (load ${cliRuns.at(-1)!.load})`);
  }
  rmSync(out, { force: true });
  const med = (f: (r: CliRun) => number): number => median(cliRuns.map(f));
  const cmed = (f: (r: ChildRun) => number): number => median(childRuns.map(f));
  const c0 = childRuns[0]!;
  say();
  say(`### ${input.label}: ${(size / 1e6).toFixed(1)} MB, params ${(c0.params.before / 1e6).toFixed(1)}M → ${(c0.params.after / 1e6).toFixed(1)}M, MACs ${(c0.macs.before / 1e9).toFixed(2)}G → ${(c0.macs.after / 1e9).toFixed(2)}G`);
  say();
  say('| CLI run | wall s | peak RSS | × file | analyze s | score s | rewrite s | load average |');
  say('|---|---:|---:|---:|---:|---:|---:|---|');
  cliRuns.forEach((r, i) => say(`| ${i + 1} | ${r.wallS.toFixed(2)} | ${mib(r.peakKiB)} | ${((r.peakKiB * 1024) / size).toFixed(2)} | ${s(r.timings.analyzeMs)} | ${s(r.timings.scoreMs)} | ${s(r.timings.rewriteMs)} | ${r.load} |`));
  say(`| **median** | **${med((r) => r.wallS).toFixed(2)}** | **${mib(med((r) => r.peakKiB))}** | **${((med((r) => r.peakKiB) * 1024) / size).toFixed(2)}** | ${s(med((r) => r.timings.analyzeMs))} | ${s(med((r) => r.timings.scoreMs))} | ${s(med((r) => r.timings.rewriteMs))} | |`);
  say();
  say('| library phase | load | analyze | score | rewrite | save | total |');
  say('|---|---:|---:|---:|---:|---:|---:|');
  say(`| seconds (median) | ${s(cmed((r) => r.loadMs))} | ${s(cmed((r) => r.timings.analyzeMs))} | ${s(cmed((r) => r.timings.scoreMs))} | ${s(cmed((r) => r.timings.rewriteMs))} | ${s(cmed((r) => r.saveMs))} | ${s(cmed((r) => r.totalMs))} |`);
  say(`| RSS after (median) | ${mib(cmed((r) => r.rssAfterLoadKiB))} | | peak so far ${mib(cmed((r) => r.peakBeforeSaveKiB))} | ${mib(cmed((r) => r.rssAfterPruneKiB))} | peak ${mib(cmed((r) => r.peakKiB))} | |`);
  say();
  say('| group (first producer) | channels → kept | score ms (median) | iterations |');
  say('|---|---:|---:|---:|');
  const convMs = median(childRuns.map((r) => r.groups.filter((g) => g.label.includes('Conv')).reduce((t, g) => t + g.ms, 0)));
  const convs = c0.groups.filter((g) => g.label.includes('Conv'));
  say(`| ${convs.length} Conv groups together | ${convs.map((g) => g.channels).join('+')} | ${convMs.toFixed(0)} | ${convs.map((g) => g.iterations ?? '-').join(', ')} |`);
  c0.groups.forEach((g, i) => {
    if (g.label.includes('Conv')) return;
    say(`| ${g.label} | ${g.channels} → ${g.kept} | ${median(childRuns.map((r) => r.groups[i]!.ms)).toFixed(0)} | ${g.iterations ?? '-'} |`);
  });
  const wall = med((r) => r.wallS);
  const peak = (med((r) => r.peakKiB) * 1024) / size;
  verdicts.push(`${input.label}: wall < 15 s ${wall < 15 ? 'met' : 'MISSED'} (${wall.toFixed(2)} s); peak RSS < 2× file ${peak < 2 ? 'met' : 'MISSED'} (${peak.toFixed(2)}×)`);
}
say();
say('**Goals (issue 4)**');
say();
for (const v of verdicts) say(`- ${v}`);
writeResults(here('./results/prune.md'), 'Whole-model pruning: VGG16, --scope all', `ratio=${ratio} scope=${scope}`, lines.join('\n'));
console.log('\nwritten: bench/results/prune.md');
