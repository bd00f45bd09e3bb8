// Issue 13 on the CUDA execution provider: bench/latency.ts's comparison (MACs ratio vs measured latency ratio),
// run on a GPU machine that has no TypeScript toolchain — plain JS on the built dist/, started by the GPU kit's node
// (../shared/gpu/make-kit.sh). Each model is pruned `--scope all --ep cuda` by the built CLI (default flags at
// --ratio 0.3 and 0.5, --round-to 1, --prune-residual, then --target-latency while time is left), and the original
// and its variants are timed on the CUDA EP, round-robin, at batch 1 and --large. Widths do not depend on the
// criterion at a fixed ratio, so the ratio variants use --method l2 (fast); --target-latency allocates with it too.
//   node bench/latency_cuda.mjs --out <dir> [--work <dir>] [--deadline <seconds>] model.onnx...
// Writes <out>/latency_cuda.md (appended as each model finishes) and <out>/latency_cuda.json; pruned models and the
// lookup tables go to <work> (default <out>).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../dist/src/ir/load.js';
import { saveModel } from '../dist/src/ir/save.js';
import { inferShapes } from '../dist/src/ir/shapeInference.js';
import { ort } from '../dist/src/runtime/ort.js';
import { openSession } from '../dist/src/runtime/session.js';

const { values: args, positionals: models } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, work: { type: 'string' }, deadline: { type: 'string', default: '360' }, ep: { type: 'string', default: 'cuda' }, large: { type: 'string', default: '8' }, runs: { type: 'string', default: '40' } },
});
const started = Date.now();
const secondsLeft = () => Number(args.deadline) - (Date.now() - started) / 1000;
const OUT = args.out;
const WORK = args.work ?? OUT;
mkdirSync(OUT, { recursive: true });
mkdirSync(join(WORK, 'models'), { recursive: true });
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const md = join(OUT, 'latency_cuda.md');
const say = (line = '') => {
  console.log(line);
  appendFileSync(md, `${line}\n`);
};
const results = [];

/** A copy whose inputs and outputs have a symbolic batch dimension (so batch 8 runs too), and its sample shape. */
function dynamicBatch(path) {
  const model = loadModel(path);
  const g = model.graph;
  const sample = g.inputs[0].shape.slice(1);
  for (const v of [...g.inputs, ...g.outputs]) {
    if (v.shape?.length) v.shape = ['batch', ...v.shape.slice(1)];
    g.inputProtos.delete(v);
    g.outputProtos.delete(v);
  }
  inferShapes(model, { overwrite: true });
  const target = join(WORK, 'models', basename(path).replace(/\.onnx$/, '-dyn.onnx'));
  saveModel(model, target);
  return { input: target, sample };
}

function prune(input, name, label, flags) {
  const path = join(WORK, 'models', `${name}-${results.length}-${label.replace(/[^a-z0-9]+/gi, '_')}.onnx`);
  const report = `${path}.json`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, input, '-o', path, '--scope', 'all', '--ep', args.ep, '--method', 'l2', '--report', report, '-q', ...flags], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prune ${flags.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  return { label, path, seconds: (Date.now() - t0) / 1000, macs: rep.macs.after / rep.macs.before, rounding: rep.rounding?.reason, latencyTarget: rep.latencyTarget };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median ms per run of each model, round-robin after warm-up, 3 independent repeats; ratios to the first. */
async function time(paths, sample, batch, runs) {
  const repeats = [];
  for (let rep = 0; rep < 3; rep++) {
    const sessions = [];
    for (const p of paths) sessions.push((await openSession(p, { ep: args.ep })).session);
    const x = Float32Array.from({ length: batch * sample.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
    const feeds = { [sessions[0].inputNames[0]]: new ort.Tensor('float32', x, [batch, ...sample]) };
    const ms = paths.map(() => []);
    for (let round = 0; round < 10 + runs; round++) {
      for (const [i, s] of sessions.entries()) {
        const t0 = performance.now();
        await s.run(feeds);
        if (round >= 10) ms[i].push(performance.now() - t0);
      }
    }
    for (const s of sessions) await s.release();
    repeats.push(ms.map(median));
  }
  const ratio = paths.map((_, i) => median(repeats.map((m) => m[i] / m[0])));
  return { ms: paths.map((_, i) => median(repeats.map((m) => m[i]))), ratio };
}

const runs = Number(args.runs);
const large = Number(args.large);
writeFileSync(md, '');
say(`${args.ep.toUpperCase()} EP, onnxruntime-node ${ort.env.versions?.node ?? ''}; \`node bench/latency_cuda.mjs\`: batch 1 and ${large}, median of ${runs} runs after 10 warm-up rounds, round-robin, median of 3 repeats.`);
const prepared = models.map((model) => ({ name: basename(model).replace(/\.onnx$/, ''), ...dynamicBatch(model) }));
const sign = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

/** Times the original and the variants, prints their table. */
async function report({ name, input, sample }, variants, heading) {
  const paths = [input, ...variants.map((v) => v.path)];
  const b1 = await time(paths, sample, 1, runs);
  const bL = await time(paths, sample, large, Math.max(10, runs >> 1));
  say();
  say(`### ${name} (${args.ep.toUpperCase()})${heading}`);
  say();
  say(`Original: ${b1.ms[0].toFixed(2)} ms at batch 1, ${bL.ms[0].toFixed(2)} ms at batch ${large}. Rounding: ${variants[0].rounding ?? 'none'}.`);
  say();
  say(`| flags | MACs ratio | latency ratio b1 | latency ratio b${large} | b1 − MACs | b${large} − MACs | prune s |`);
  say('|---|---:|---:|---:|---:|---:|---:|');
  for (const [i, v] of variants.entries()) {
    say(`| ${v.label} | ${v.macs.toFixed(3)} | ${b1.ratio[i + 1].toFixed(3)} | ${bL.ratio[i + 1].toFixed(3)} | ${sign(b1.ratio[i + 1] - v.macs)} | ${sign(bL.ratio[i + 1] - v.macs)} | ${v.seconds.toFixed(0)} |`);
  }
  const lt = variants.find((v) => v.latencyTarget)?.latencyTarget;
  if (lt) say(`\n\`--target-latency 0.5 --ep ${args.ep}\` (batch 1): predicted ${lt.predicted.toFixed(3)}, measured ${lt.measured.toFixed(3)} by the CLI, ${lt.attempts.length} attempt(s), table ${lt.table.measured} widths measured.`);
  results.push({ name, heading, b1, bL, variants: variants.map(({ path, ...v }) => v) });
  writeFileSync(join(OUT, 'latency_cuda.json'), JSON.stringify(results, null, 1));
  console.log(`${name}${heading} done at ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

// First every model's ratio variants (cheap), then --target-latency (a lookup table per model) while time is left.
for (const m of prepared) {
  const variants = [
    ['--ratio 0.3 (defaults)', ['--ratio', '0.3']],
    ['--ratio 0.5 (defaults)', ['--ratio', '0.5']],
    ['--ratio 0.3 --round-to 1', ['--ratio', '0.3', '--round-to', '1']],
    ['--ratio 0.3 --prune-residual', ['--ratio', '0.3', '--prune-residual']],
  ].map(([label, flags]) => prune(m.input, m.name, label, flags));
  await report(m, variants, '');
}
for (const m of prepared) {
  if (secondsLeft() < 90) {
    say(`\n${m.name}: --target-latency not run (deadline)`);
    continue;
  }
  try {
    await report(m, [prune(m.input, m.name, '--target-latency 0.5', ['--target-latency', '0.5', '--latency-cache', join(WORK, 'tables')])], ', --target-latency');
  } catch (e) {
    say(`\n${m.name}: --target-latency failed: ${e.message.split('\n')[0]}`);
  }
}
