// One measured load + inspect + save, run by bench/io.ts in a fresh process so peak RSS is this work's alone.
// Plain JS on the built dist/ (what `npx onnx-cprune` runs), so no TypeScript loader sits in the figures.
//   node bench/io-child.mjs <model.onnx> <out.onnx>   → one JSON line on stdout
import { readFileSync } from 'node:fs';
import { loadModel } from '../dist/src/ir/load.js';
import { saveModel } from '../dist/src/ir/save.js';
import { inspectReport } from '../dist/cli/commands/inspect.js';

const [input, output] = process.argv.slice(2);
const kib = (field) => Number(/^(\d+)/.exec(readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field)).split(':')[1].trim())[1]);
const now = () => performance.now() / 1000;

const rssStart = kib('VmRSS');
const t0 = now();
const model = loadModel(input);
const t1 = now();
const rssAfterLoad = kib('VmRSS');
const report = inspectReport(model);
const t2 = now();
saveModel(model, output);
const t3 = now();
process.stdout.write(JSON.stringify({
  load: t1 - t0, inspect: t2 - t1, save: t3 - t2, total: t3 - t0,
  params: report.params, macs: report.macs, nodes: report.nodes,
  rssStartKiB: rssStart, rssAfterLoadKiB: rssAfterLoad, peakKiB: kib('VmHWM'),
}) + '\n');
