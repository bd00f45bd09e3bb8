/**
 * Does pruning pay off in speed? ResNet50 and VGG16 at full width (bench/make_big_models.py exports, given a
 * symbolic batch dimension here) are pruned by the built CLI with `--scope all` at p = 0.5 and 0.3, each with and
 * without `--round-to`; then the MACs ratio and the measured onnxruntime-node CPU latency ratio (batch 1 and 32)
 * are put side by side, and onnxruntime's profiler splits one batch-1 run by kernel role to explain the gap.
 *
 *   npm run build && npx tsx bench/latency.ts [--models resnet50,vgg16] [--threads 0] [--runs 10] [--warmup 2]
 *       [--large 32] [--large-runs resnet50=5,vgg16=3] [--large-group 3] [--no-profile]
 *
 * Timing: sessions are opened per batch size and the runs go round-robin over the original and the variants (so
 * load changes on this shared machine hit them alike); median per model. At the large batch only --large-group
 * models share a round-robin (the original and 2 variants): VGG16's memory arena holds ~2.5 GB per session there
 * (turning the arena off costs VGG16 ~40 % at batch 32, so it stays on). --threads 0 (default) keeps onnxruntime's
 * own intra-op thread count (one per core); give 1 for single-threaded figures.
 * Writes bench/results/latency.md (a section per model list and thread count; hand-written notes are kept).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { parseArgs } from 'node:util';
import { median } from '../src/runtime/latency.js';
import { ort } from '../src/runtime/ort.js';
import { openSession } from '../src/runtime/session.js';
import { bigModel, dynamicBatchCopy, here, loadAverage, machineLine, requireBuild, writeResults, type BigModel } from './bigModels.js';
import { profileRoles, ROLE_NOTES, ROLES, type Profile } from './latencyProfile.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet50,vgg16' },
    threads: { type: 'string', default: '0' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    large: { type: 'string', default: '32' },
    'large-runs': { type: 'string', default: 'resnet50=5,vgg16=3' },
    'large-group': { type: 'string', default: '3' },
    'no-profile': { type: 'boolean', default: false },
  },
});
const models = args.models!.split(',') as BigModel[];
const threads = Number(args.threads);
const runs = Number(args.runs);
const warmup = Number(args.warmup);
const large = Number(args.large);
const largeGroup = Number(args['large-group']);
const profileRuns = 7;
const largeRuns = new Map(args['large-runs']!.split(',').map((kv) => kv.split('=') as [string, string]).map(([k, v]) => [k, Number(v)]));

interface Variant { label: string; ratio: number; roundTo: number }
const VARIANTS: Variant[] = [
  { label: 'p = 0.5', ratio: 0.5, roundTo: 1 },
  { label: 'p = 0.5, --round-to 8', ratio: 0.5, roundTo: 8 },
  { label: 'p = 0.3', ratio: 0.3, roundTo: 1 },
  { label: 'p = 0.3, --round-to 8', ratio: 0.3, roundTo: 8 },
  { label: 'p = 0.3, --round-to 16', ratio: 0.3, roundTo: 16 },
];

interface Pruned extends Variant {
  path: string;
  params: number; paramsBefore: number; macs: number; macsBefore: number;
  /** Kept channel counts of the pruned groups, in group order. */
  kept: number[];
  /** Label of an earlier variant with exactly the same kept counts (the same model): it is not timed twice. */
  sameAs?: string;
}

interface PruneReportFile { params: { before: number; after: number }; macs: { before: number; after: number }; groups: { kept: number[]; declined?: string }[] }

function prune(input: string, name: string, v: Variant): Pruned {
  const tag = `${name}-p${Math.round(v.ratio * 100)}${v.roundTo > 1 ? `-r${v.roundTo}` : ''}`;
  const path = here(`./out/${tag}.onnx`);
  const report = here(`./out/${tag}.report.json`);
  const cli = [here('../dist/cli/main.js'), input, '-o', path, '--scope', 'all', '--ratio', String(v.ratio), '--round-to', String(v.roundTo), '--report', report, '-q'];
  const r = spawnSync(process.execPath, cli, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pruning ${tag} failed (${r.status}): ${r.stderr}`);
  const rep = JSON.parse(readFileSync(report, 'utf8')) as PruneReportFile;
  return {
    ...v, path,
    params: rep.params.after, paramsBefore: rep.params.before, macs: rep.macs.after, macsBefore: rep.macs.before,
    kept: rep.groups.filter((g) => !g.declined).map((g) => g.kept.length),
  };
}

/** A seeded input batch of ImageNet size (values do not change the speed of dense kernels). */
function inputBatch(batch: number): Record<string, ort.Tensor> {
  let a = 12345;
  const x = Float32Array.from({ length: batch * 3 * 224 * 224 }, () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
  return { input: new ort.Tensor('float32', x, [batch, 3, 224, 224]) };
}

interface Timed { ms: number; /** The original's median in the same round-robin (the ratio's denominator). */ originalMs: number }

/**
 * Median latency (ms) of the original and each variant at one batch size. Runs go round-robin over the original and
 * at most `perGroup` − 1 variants at a time (each session's memory arena holds its activations: VGG16 at batch 32
 * takes ~2.5 GB per session), after the warm-up rounds; each variant is compared with the original of its group.
 */
async function timeAll(original: string, variants: string[], batch: number, timedRuns: number, warm: number, perGroup: number): Promise<{ original: number; variants: Timed[] }> {
  const feeds = inputBatch(batch);
  const originalRuns: number[] = [];
  const out: Timed[] = [];
  const size = Math.max(1, perGroup - 1);
  for (let g = 0; g < variants.length; g += size) {
    const times = await roundRobin([original, ...variants.slice(g, g + size)], feeds, timedRuns, warm);
    originalRuns.push(...times[0]!);
    for (const t of times.slice(1)) out.push({ ms: median(t), originalMs: median(times[0]!) });
  }
  return { original: median(originalRuns), variants: out };
}

async function roundRobin(paths: string[], feeds: Record<string, ort.Tensor>, timedRuns: number, warm: number): Promise<number[][]> {
  const sessionOptions = threads > 0 ? { intraOpNumThreads: threads } : {};
  const sessions = [];
  const times: number[][] = paths.map(() => []);
  try {
    for (const p of paths) sessions.push((await openSession(p, { ep: 'cpu', sessionOptions })).session);
    for (let round = 0; round < warm + timedRuns; round++) {
      for (const [i, s] of sessions.entries()) {
        const t0 = performance.now();
        await s.run(feeds);
        if (round >= warm) times[i]!.push(performance.now() - t0);
      }
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return times;
}

const lines: string[] = [];
const say = (line = ''): void => {
  console.log(line);
  lines.push(line);
};
const pct = (x: number): string => x.toFixed(3);
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

requireBuild();
const started = Date.now();
say(`Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}, onnxruntime-node ${ort.env.versions.node ?? ''} CPU EP,`);
say(`intra-op threads: ${threads > 0 ? threads : 'onnxruntime default (one per core)'}; \`npx tsx bench/latency.ts --models ${models.join(',')} --threads ${threads} --runs ${runs} --warmup ${warmup} --large ${large} --large-runs ${args['large-runs']} --large-group ${largeGroup}\`.`);
say(`Batch 1: median of ${runs} runs after ${warmup} warm-up rounds, round-robin over all models of a table; batch ${large}: median of the count given below after 1 warm-up round, round-robin over the original and ${largeGroup - 1} variant(s) at a time (memory). Each ratio divides by the original's median in the same round-robin; the original's column shows the median over all its runs.`);
say('Ratios are pruned / original (below 1 = smaller or faster). MACs and params from the pruning report (MACs per sample).');
for (const name of models) {
  const input = dynamicBatchCopy(bigModel(name), here(`./out/${name}-dyn.onnx`));
  const pruned: Pruned[] = [];
  for (const v of VARIANTS) {
    const p = prune(input, name, v);
    const twin = pruned.find((q) => !q.sameAs && q.kept.join() === p.kept.join());
    if (twin) p.sameAs = twin.label;
    pruned.push(p);
  }
  const timed = pruned.filter((p) => !p.sameAs);
  const paths = timed.map((p) => p.path);
  const load1 = loadAverage();
  const b1 = await timeAll(input, paths, 1, runs, warmup, paths.length + 1);
  const nLarge = largeRuns.get(name) ?? 3;
  const loadL = loadAverage();
  const free = freemem();
  const bL = await timeAll(input, paths, large, nLarge, 1, largeGroup);
  const loadEnd = loadAverage();
  const row = (p: Pruned): [Timed, Timed] => {
    const i = timed.findIndex((q) => q.label === (p.sameAs ?? p.label));
    return [b1.variants[i]!, bL.variants[i]!];
  };
  say();
  say(`### ${name} (${(pruned[0]!.paramsBefore / 1e6).toFixed(1)}M params, ${(pruned[0]!.macsBefore / 1e9).toFixed(2)} GMACs per sample)`);
  say();
  say(`Load average: ${load1} (batch 1), ${loadL} (batch ${large}, ${nLarge} runs, ${(free / 2 ** 30).toFixed(1)} GiB free before), ${loadEnd} (end).`);
  say();
  say(`| model | kept channels (smallest group … largest) | all kept ×8 / ×16 | params ratio | **MACs ratio** | batch 1 ms | **latency ratio b1** | batch ${large} ms | **latency ratio b${large}** |`);
  say('|---|---|---|---:|---:|---:|---:|---:|---:|');
  say(`| original | | | 1 | 1 | ${ms(b1.original)} | 1 | ${ms(bL.original)} | 1 |`);
  for (const p of pruned) {
    const [t1, tL] = row(p);
    const counts = [...new Set(p.kept)].sort((a, b) => a - b);
    const shown = counts.length > 6 ? `${counts.slice(0, 3).join(', ')} … ${counts.slice(-2).join(', ')}` : counts.join(', ');
    const mult = (m: number): string => (p.kept.every((k) => k % m === 0) ? 'yes' : `no (${p.kept.filter((k) => k % m !== 0).length}/${p.kept.length})`);
    say(`| ${p.label}${p.sameAs ? ` (= ${p.sameAs}: same counts, timed once)` : ''} | ${shown} | ${mult(8)} / ${mult(16)} | ${pct(p.params / p.paramsBefore)} | **${pct(p.macs / p.macsBefore)}** | ${ms(t1.ms)} | **${pct(t1.ms / t1.originalMs)}** | ${ms(tL.ms)} | **${pct(tL.ms / tL.originalMs)}** |`);
  }
  if (!args['no-profile']) {
    const profiled = [{ label: 'original', path: input }, ...timed.map((p) => ({ label: p.label, path: p.path }))];
    const feeds = inputBatch(1);
    const loadP = loadAverage();
    const profiles = await profileRoles(profiled.map((m) => m.path), feeds, profileRuns, 2, threads);
    say();
    say(`Batch-1 time by kernel role (onnxruntime profiler: of ${profileRuns} runs after 2 warm-ups, round-robin as above, the run of median wall time, split by kernel; load ${loadP}). Each cell: ms (MACs ratio → time ratio vs the original; kernels).`);
    say();
    say(`| role | ${profiled.map((m) => m.label).join(' | ')} |`);
    say(`|---|${profiled.map(() => '---:').join('|')}|`);
    for (const role of ROLES) {
      const o = profiles[0]!.get(role)!;
      if (profiles.every((p) => p.get(role)!.ms < 0.05)) continue;
      const cells = profiles.map((p, i) => {
        const f = p.get(role)!;
        const count = f.kernels > 0 ? `${f.kernels} kernel${f.kernels > 1 ? 's' : ''}` : '';
        // A ratio against a role that took almost nothing in the original says nothing.
        if (i === 0 || o.ms < 0.5) return count ? `${ms(f.ms)} (${count})` : ms(f.ms);
        const macs = o.macs > 0 ? `MACs ${pct(f.macs / o.macs)} → ` : '';
        return `${ms(f.ms)} (${macs}time ${pct(f.ms / o.ms)}${count ? `; ${count}` : ''})`;
      });
      say(`| ${role} | ${cells.join(' | ')} |`);
    }
    const total = (p: Profile): number => [...p.values()].reduce((s, f) => s + f.ms, 0);
    say(`| **whole run** | ${profiles.map((p, i) => (i === 0 ? ms(total(p)) : `${ms(total(p))} (${pct(total(p) / total(profiles[0]!))})`)).join(' | ')} |`);
    say();
    for (const role of ROLES) say(`- *${role}*: ${ROLE_NOTES[role]}`);
  }
}
say();
say(`Whole bench: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
writeResults(here('./results/latency.md'), 'Pruned-model speed: MACs ratio vs measured CPU latency ratio', `models=${models.join(',')} threads=${threads}`, lines.join('\n'));
console.log('\nwritten: bench/results/latency.md');
