// One measured load → prune (analyze, score, rewrite) → save, run by bench/prune.ts in a fresh process so its peak
// RSS (VmHWM) is this work's alone. Plain JS on the built dist/ (what `npx onnx-cprune` runs).
//   node bench/prune-child.mjs <model.onnx> <out.onnx> '<options json>'   → one JSON line on stdout
import { readFileSync } from 'node:fs';
import { loadModel } from '../dist/src/ir/load.js';
import { saveModel } from '../dist/src/ir/save.js';
import { centralityPrune } from '../dist/src/passes/centralityPrune.js';

const [input, output, json] = process.argv.slice(2);
const kib = (field) => Number(/^(\d+)/.exec(readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field)).split(':')[1].trim())[1]);
const rss = () => kib('VmRSS');

const t0 = performance.now();
const model = loadModel(input);
const t1 = performance.now();
const rssAfterLoad = rss();
// Per-group scoring time: onProgress fires before each group is scored (and once after the last).
const groups = [];
let last = performance.now();
let current;
const report = await centralityPrune(model, {
  ...JSON.parse(json ?? '{}'),
  onProgress: (done, _total, label) => {
    const now = performance.now();
    if (current) groups.push({ ...current, ms: now - last, rssKiB: rss() });
    current = done < _total ? { label } : undefined;
    last = now;
  },
});
const t2 = performance.now();
const rssAfterPrune = rss();
const peakBeforeSave = kib('VmHWM');
saveModel(model, output);
const t3 = performance.now();

const shape = new Map(report.groups.map((g) => [g.producers[0], g]));
process.stdout.write(JSON.stringify({
  loadMs: t1 - t0, pruneMs: t2 - t1, saveMs: t3 - t2, totalMs: t3 - t0, timings: report.timings,
  params: report.params, macs: report.macs,
  groups: groups.map((g) => ({ ...g, channels: shape.get(g.label)?.channels, kept: shape.get(g.label)?.kept.length, iterations: shape.get(g.label)?.iterations })),
  rssAfterLoadKiB: rssAfterLoad, rssAfterPruneKiB: rssAfterPrune, peakBeforeSaveKiB: peakBeforeSave, peakKiB: kib('VmHWM'),
}) + '\n');
