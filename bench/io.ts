/**
 * Load + inspect + save of a VGG16-sized model (~553 MB), side by side with Debian python3-onnx's onnx.load/onnx.save
 * on the same file in the same run. Each measurement runs in a fresh child process, so its peak RSS (VmHWM) is its own.
 *
 *   npm run build && npx tsx bench/io.ts [--model bench/out/vgg16.onnx] [--runs 3]
 *
 * Goal (issue 2): under 3 s on 2 cores, peak RSS under 1.5× the file size. The model is made, if missing, by
 * bench/make_big_models.py (torchvision's vgg16 through Debian torch, seeded random weights).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const PYTHON = '/usr/bin/python3';

interface Run { load: number; save: number; total: number; inspect?: number; peakKiB: number; rssStartKiB: number; rssAfterLoadKiB: number }

const { values: args } = parseArgs({
  options: { model: { type: 'string', default: here('./out/vgg16.onnx') }, runs: { type: 'string', default: '3' } },
});
const model = args.model!;
const runs = Number(args.runs);

if (!existsSync(here('../dist/src/ir/load.js'))) throw new Error('dist/ is missing: run `npm run build` first');
if (!existsSync(model)) {
  console.log(`${model} is missing: exporting it with bench/make_big_models.py (about a minute)`);
  execFileSync(PYTHON, [here('./make_big_models.py'), '--model', 'vgg16'], { stdio: 'inherit' });
}
const size = statSync(model).size;
const out = here('./out/io-bench.out.onnx');
// Warm the page cache so neither side pays for the first disk read.
readFileSync(model);

function child(cmd: string, argv: string[]): Run {
  // Flush the previous run's written file first: otherwise its writeback competes with this run's disk writes
  // (and with our fsync, which python's onnx.save does not do).
  execFileSync('sync');
  try {
    return JSON.parse(execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 20 })) as Run;
  } finally {
    rmSync(out, { force: true });
  }
}

const ours: Run[] = [];
const theirs: (Run & { version: string })[] = [];
for (let i = 0; i < runs; i++) {
  // Alternate who goes first, so neither always gets the warmer cache.
  const order = i % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
  for (const who of order) {
    if (who === 'ours') ours.push(child(process.execPath, [here('./io-child.mjs'), model, out]));
    else theirs.push(child(PYTHON, [here('./onnx_io.py'), model, out]) as Run & { version: string });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = size / 1e6;
const col = (s: string): string => s.padStart(22);
const row = (label: string, a: string, b: string): void => console.log(label.padEnd(24) + col(a) + col(b));
const secs = (runsOf: Run[], k: 'load' | 'save' | 'total' | 'inspect'): number => median(runsOf.map((r) => r[k] ?? 0));
const rate = (t: number): string => `${t.toFixed(2)} s  ${(mb / t).toFixed(0)} MB/s`;
const mem = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB  ${((kib * 1024) / size).toFixed(2)}×`;

console.log(`\n${model}: ${mb.toFixed(1)} MB, ${runs} run(s) each, medians; peak RSS = VmHWM of the process`);
row('', 'onnx-cprune', `python3-onnx ${theirs[0]!.version}`);
row('load (decode)', rate(secs(ours, 'load')), rate(secs(theirs, 'load')));
row('inspect', `${secs(ours, 'inspect').toFixed(3)} s`, '-');
row('save (encode)', rate(secs(ours, 'save')), rate(secs(theirs, 'save')));
row('total', `${secs(ours, 'total').toFixed(2)} s`, `${secs(theirs, 'total').toFixed(2)} s`);
row('RSS before load', mem(median(ours.map((r) => r.rssStartKiB))), mem(median(theirs.map((r) => r.rssStartKiB))));
row('RSS after load', mem(median(ours.map((r) => r.rssAfterLoadKiB))), mem(median(theirs.map((r) => r.rssAfterLoadKiB))));
row('peak RSS', mem(median(ours.map((r) => r.peakKiB))), mem(median(theirs.map((r) => r.peakKiB))));
const total = secs(ours, 'total');
const peak = (median(ours.map((r) => r.peakKiB)) * 1024) / size;
console.log(`\ngoal: total < 3 s: ${total < 3 ? 'met' : 'MISSED'} (${total.toFixed(2)} s); peak RSS < 1.5× file: ${peak < 1.5 ? 'met' : 'MISSED'} (${peak.toFixed(2)}×)`);
