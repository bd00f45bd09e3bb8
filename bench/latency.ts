/**
 * Are pruned models faster in proportion to their MACs (issue 13)? Four ImageNet-size models — nsfwjs 4.4.0's
 * trained MobileNetV2 (converted from TensorFlow.js by bench/nsfwjs.ts) and full-width torchvision ResNet50,
 * MobileNetV3-Large and EfficientNet-B0 (seeded random weights, bench/make_big_models.py, batch dim made symbolic)
 * — are pruned by the built CLI with `--scope all`:
 *   - `--ratio 0.3` and `--ratio 0.5` with default flags (`--round-to auto`, residual streams kept at full width),
 *   - `--ratio 0.3 --round-to 1` (exact ⌊p·n⌋),
 *   - `--ratio 0.3 --prune-residual` (residual streams pruned too: the default before),
 *   - `--target-latency 0.5` (single-threaded CPU, batch 1; lookup tables in bench/out/latency-tables/),
 * then every variant and the original are timed single-threaded on onnxruntime-node's CPU provider at batch 1 and
 * --large (8), round-robin over the original and the variants (so load changes hit them alike), medians.
 *
 *   npm run build && npx tsx bench/latency.ts [--models nsfwjs_mobilenet_v2,resnet50,mobilenet_v3_large,efficientnet_b0]
 *       [--threads 1] [--runs 15] [--large 8] [--large-runs 7] [--repeats 3] [--target 0.5] [--profile]
 *
 * --profile adds onnxruntime's per-kernel profile of one batch-1 run per model, split by kernel role. Writes
 * bench/results/latency.md (a section per model list and thread count; hand-written notes are kept).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { median } from '../src/runtime/latency.js';
import { ort } from '../src/runtime/ort.js';
import { openSession } from '../src/runtime/session.js';
import { bigModel, dynamicBatchCopy, here, loadAverage, machineLine, requireBuild, writeResults, type BigModel } from './bigModels.js';
import { profileRoles, ROLE_NOTES, ROLES, type Profile } from './latencyProfile.js';
import { nsfwjsMobileNetV2 } from './nsfwjs.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'nsfwjs_mobilenet_v2,resnet50,mobilenet_v3_large,efficientnet_b0' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '15' },
    large: { type: 'string', default: '8' },
    'large-runs': { type: 'string', default: '7' },
    repeats: { type: 'string', default: '3' },
    target: { type: 'string', default: '0.5' },
    profile: { type: 'boolean', default: false },
  },
});
const models = args.models!.split(',');
const threads = Number(args.threads);
const runs = Number(args.runs);
const large = Number(args.large);
const largeRuns = Number(args['large-runs']);
const repeats = Number(args.repeats);
const target = Number(args.target);
const WARMUP = 3;

interface Variant { label: string; flags: string[] }
const VARIANTS: Variant[] = [
  { label: '--ratio 0.3 (defaults)', flags: ['--ratio', '0.3'] },
  { label: '--ratio 0.5 (defaults)', flags: ['--ratio', '0.5'] },
  { label: '--ratio 0.3 --round-to 1', flags: ['--ratio', '0.3', '--round-to', '1'] },
  { label: '--ratio 0.3 --prune-residual', flags: ['--ratio', '0.3', '--prune-residual'] },
  { label: `--target-latency ${target}`, flags: ['--target-latency', String(target), '--threads', String(threads), '--latency-cache', here('./out/latency-tables')] },
];

interface Pruned extends Variant {
  path: string;
  macs: number; macsBefore: number; params: number; paramsBefore: number;
  kept: number[];
  rounding?: string;
  /** What the CLI itself predicted and measured for --target-latency. */
  cli?: { predicted: number; measured: number; attempts: number; tableMeasured: number; tableCached: number; seconds: number };
}

interface ReportFile {
  params: { before: number; after: number }; macs: { before: number; after: number };
  groups: { kept: number[]; declined?: string }[];
  rounding?: { reason: string };
  latencyTarget?: { predicted: number; measured: number; attempts: unknown[]; table: { measured: number; cached: number } };
}

function prune(input: string, name: string, v: Variant, i: number): Pruned {
  const path = here(`./out/${name}-v${i}.onnx`);
  const report = here(`./out/${name}-v${i}.report.json`);
  const t0 = Date.now();
  const cli = [here('../dist/cli/main.js'), input, '-o', path, '--scope', 'all', '--ep', 'cpu', '--report', report, '-q', ...v.flags];
  const r = spawnSync(process.execPath, cli, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pruning ${name} with ${v.flags.join(' ')} failed (${r.status}): ${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
  const rep = JSON.parse(readFileSync(report, 'utf8')) as ReportFile;
  const lt = rep.latencyTarget;
  return {
    ...v, path,
    macs: rep.macs.after, macsBefore: rep.macs.before, params: rep.params.after, paramsBefore: rep.params.before,
    kept: rep.groups.filter((g) => !g.declined).map((g) => g.kept.length),
    ...(rep.rounding ? { rounding: rep.rounding.reason } : {}),
    ...(lt ? { cli: { predicted: lt.predicted, measured: lt.measured, attempts: lt.attempts.length, tableMeasured: lt.table.measured, tableCached: lt.table.cached, seconds: (Date.now() - t0) / 1000 } } : {}),
  };
}

/** A seeded input batch of ImageNet size (values do not change the speed of dense kernels). */
function inputBatch(batch: number, name: string): Record<string, ort.Tensor> {
  let a = 12345;
  const x = Float32Array.from({ length: batch * 3 * 224 * 224 }, () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
  return { [name]: new ort.Tensor('float32', x, [batch, 3, 224, 224]) };
}

/**
 * Milliseconds per run of each model at one batch size, round-robin after WARMUP untimed rounds: wall time, and the
 * process's CPU time during the run (single-threaded, the run's latency without the time other processes held the
 * core: the steadier figure on this shared machine).
 */
async function roundRobin(paths: string[], batch: number, timedRuns: number): Promise<{ wall: number[][]; cpu: number[][] }> {
  const sessionOptions = threads > 0 ? { intraOpNumThreads: threads } : {};
  const sessions: ort.InferenceSession[] = [];
  const wall: number[][] = paths.map(() => []);
  const cpu: number[][] = paths.map(() => []);
  try {
    for (const p of paths) sessions.push((await openSession(p, { ep: 'cpu', sessionOptions })).session);
    const feeds = inputBatch(batch, sessions[0]!.inputNames[0]!);
    for (let round = 0; round < WARMUP + timedRuns; round++) {
      for (const [i, s] of sessions.entries()) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await s.run(feeds);
        const dt = performance.now() - t0;
        const used = process.cpuUsage(c0);
        if (round >= WARMUP) {
          wall[i]!.push(dt);
          cpu[i]!.push((used.user + used.system) / 1000);
        }
      }
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return { wall, cpu };
}

interface Spread { median: number; min: number; max: number }
interface Repeated { ms: number[]; ratio: Spread[] }

/** `repeats` independent round-robins: per model the median ms, per variant its ratio to the original (median, range). */
async function repeated(paths: string[], batch: number, timedRuns: number): Promise<{ wall: Repeated; cpu: Repeated }> {
  const all: { wall: number[][]; cpu: number[][] }[] = [];
  for (let r = 0; r < repeats; r++) all.push(await roundRobin(paths, batch, timedRuns));
  const summarise = (key: 'wall' | 'cpu'): Repeated => {
    const medians = all.map((x) => x[key].map(median));
    return {
      ms: paths.map((_, i) => median(medians.map((m) => m[i]!))),
      ratio: paths.slice(1).map((_, i) => {
        const rs = medians.map((m) => m[i + 1]! / m[0]!);
        return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) };
      }),
    };
  };
  return { wall: summarise('wall'), cpu: summarise('cpu') };
}

async function source(name: string): Promise<string> {
  if (name === 'nsfwjs_mobilenet_v2') return nsfwjsMobileNetV2();
  return dynamicBatchCopy(bigModel(name as BigModel), here(`./out/${name}-dyn.onnx`));
}

const lines: string[] = [];
const say = (line = ''): void => {
  console.log(line);
  lines.push(line);
};
const f3 = (x: number): string => x.toFixed(3);
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

requireBuild();
const started = Date.now();
say(`Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}, onnxruntime-node ${ort.env.versions.node ?? ''} CPU EP, intra-op threads: ${threads > 0 ? threads : 'default'};`);
say(`\`npx tsx bench/latency.ts --models ${models.join(',')} --threads ${threads} --runs ${runs} --large ${large} --large-runs ${largeRuns} --repeats ${repeats} --target ${target}${args.profile ? ' --profile' : ''}\`.`);
say(`Batch 1: median of ${runs} runs, batch ${large}: median of ${largeRuns}, after ${WARMUP} warm-up rounds, round-robin over the original and the variants, ${repeats} times. Ratios are pruned / original (MACs per sample from the report); CPU time: the process's CPU time during each single-threaded run.`);
for (const name of models) {
  const input = await source(name);
  const pruned = VARIANTS.map((v, i) => prune(input, name, v, i));
  const paths = [input, ...pruned.map((p) => p.path)];
  // Each repeat is a fresh round-robin (new sessions); a ratio is the median over repeats of (variant / original)
  // within one repeat, shown with the range over repeats.
  const load1 = loadAverage();
  const b1 = await repeated(paths, 1, runs);
  const loadL = loadAverage();
  const bL = await repeated(paths, large, largeRuns);
  const loadEnd = loadAverage();
  const m1 = b1.wall;
  const mL = bL.wall;
  const c1 = b1.cpu;
  const cL = bL.cpu;
  say();
  say(`### ${name} (${(pruned[0]!.paramsBefore / 1e6).toFixed(2)}M params, ${(pruned[0]!.macsBefore / 1e6).toFixed(0)}M MACs per sample)`);
  say();
  say(`Load average: ${load1} (batch 1), ${loadL} (batch ${large}), ${loadEnd} (end). ${pruned[0]!.rounding ? `Default rounding: ${pruned[0]!.rounding}.` : ''}`);
  say();
  say(`Original: ${ms(m1.ms[0]!)} ms wall / ${ms(c1.ms[0]!)} ms CPU at batch 1, ${ms(mL.ms[0]!)} / ${ms(cL.ms[0]!)} ms at batch ${large}. Latency ratios: median of ${repeats} repeats [range].`);
  say();
  say(`| flags | kept channels (smallest … largest group) | params ratio | **MACs ratio** | **latency ratio b1** | **latency ratio b${large}** | b1 − MACs | b${large} − MACs | CPU-time ratio b1 / b${large} |`);
  say('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [i, p] of pruned.entries()) {
    const counts = [...new Set(p.kept)].sort((a, b) => a - b);
    const shown = counts.length > 6 ? `${counts.slice(0, 3).join(', ')} … ${counts.slice(-2).join(', ')}` : counts.join(', ');
    const macs = p.macs / p.macsBefore;
    const r1 = m1.ratio[i]!.median;
    const rL = mL.ratio[i]!.median;
    const sign = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
    const span = (r: Spread): string => `[${r.min.toFixed(2)}–${r.max.toFixed(2)}]`;
    say(`| ${p.label} | ${shown} | ${f3(p.params / p.paramsBefore)} | **${f3(macs)}** | **${f3(r1)}** ${span(m1.ratio[i]!)} | **${f3(rL)}** ${span(mL.ratio[i]!)} | ${sign(r1 - macs)} | ${sign(rL - macs)} | ${f3(c1.ratio[i]!.median)} / ${f3(cL.ratio[i]!.median)} |`);
  }
  const t = pruned.find((p) => p.cli);
  if (t?.cli) {
    const c = t.cli;
    say();
    const k = pruned.indexOf(t) + 1;
    say(`\`--target-latency ${target}\`: the CLI predicted ${f3(c.predicted)} and measured ${f3(c.measured)} (batch 1, CPU time of single-threaded runs, ${c.attempts} allocation(s) timed); this bench measures ${f3(m1.ratio[k - 1]!.median)} wall / ${f3(c1.ratio[k - 1]!.median)} CPU time at batch 1. Lookup table: ${c.tableMeasured} width(s) measured, ${c.tableCached} cached; the whole prune took ${c.seconds.toFixed(0)} s.`);
  }
  if (args.profile) {
    const profiled = [{ label: 'original', path: input }, ...pruned.map((p) => ({ label: p.label, path: p.path }))];
    const loadP = loadAverage();
    const profiles = await profileRoles(profiled.map((m) => m.path), inputBatch(1, 'input'), 15, 2, threads);
    say();
    say(`Batch-1 time by kernel role (onnxruntime profiler: each kernel's median over 15 runs, round-robin; load ${loadP}). Each cell: ms (MACs ratio → time ratio vs the original; kernels).`);
    say();
    say(`| role | ${profiled.map((m) => m.label).join(' | ')} |`);
    say(`|---|${profiled.map(() => '---:').join('|')}|`);
    for (const role of ROLES) {
      const o = profiles[0]!.get(role)!;
      if (profiles.every((p) => p.get(role)!.ms < 0.05)) continue;
      const cells = profiles.map((p, i) => {
        const f = p.get(role)!;
        const count = f.kernels > 0 ? `${f.kernels} kernel${f.kernels > 1 ? 's' : ''}` : '';
        if (i === 0 || o.ms < 0.2) return count ? `${ms(f.ms)} (${count})` : ms(f.ms);
        const macs = o.macs > 0 ? `MACs ${f3(f.macs / o.macs)} → ` : '';
        return `${ms(f.ms)} (${macs}time ${f3(f.ms / o.ms)}${count ? `; ${count}` : ''})`;
      });
      say(`| ${role} | ${cells.join(' | ')} |`);
    }
    const total = (p: Profile): number => [...p.values()].reduce((s, f) => s + f.ms, 0);
    say(`| **whole run** | ${profiles.map((p, i) => (i === 0 ? ms(total(p)) : `${ms(total(p))} (${f3(total(p) / total(profiles[0]!))})`)).join(' | ')} |`);
    say();
    for (const role of ROLES) say(`- *${role}*: ${ROLE_NOTES[role]}`);
  }
}
say();
say(`Whole bench: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
writeResults(here('./results/latency.md'), 'Pruned-model speed: MACs ratio vs measured CPU latency ratio', `models=${models.join(',')} threads=${threads}`, lines.join('\n'));
console.log('\nwritten: bench/results/latency.md');
