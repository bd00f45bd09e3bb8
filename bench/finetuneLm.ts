/**
 * Language-model fine-tuning speed (`finetune --objective lm`) on this machine's CPUs: optimizer steps (forward,
 * backward, gradient clipping, Adam) of the trained byte-level decoder fixtures/trained/lm_kjv.onnx on windows of
 * 128 bytes, batch 16 by default, on each tfjs backend asked for. Steps after the first (which loads the weights and
 * compiles the plan) are timed, in wall-clock and in this process's CPU time (the machine may be shared).
 *
 *   npx tsx bench/finetuneLm.ts [--data bench/out/lm/kjv_train.txt] [--steps 5] [--batch 16] [--backends wasm,cpu] [--train all]
 */
import { join } from 'node:path';
import { loadModel } from '../src/ir/load.js';
import type { BackendPreference } from '../src/train/backend.js';
import { finetuneLm } from '../src/train/lmFinetune.js';
import type { LmTrainMode } from '../src/train/lmPlan.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : fallback;
};
const data = option('--data', join(import.meta.dirname, 'out/lm/kjv_train.txt'));
const steps = Number(option('--steps', '5'));
const batch = Number(option('--batch', '16'));
const train = option('--train', 'all') as LmTrainMode;
const backends = option('--backends', 'wasm').split(',') as BackendPreference[];
const MODEL = join(import.meta.dirname, '../fixtures/trained/lm_kjv.onnx');

for (const backend of backends) {
  const marks: { wall: number; cpu: number }[] = [];
  const mark = (): void => {
    const c = process.cpuUsage();
    marks.push({ wall: performance.now() / 1000, cpu: (c.user + c.system) / 1e6 });
  };
  const r = await finetuneLm(loadModel(MODEL), data, {
    train, steps: steps + 1, batch, valWindows: 0, limit: (steps + 1) * batch, seed: 0, backend,
    onProgress: (p) => { if (p.kind === 'step') mark(); },
  });
  const timed = marks.length - 1;
  const wall = (marks.at(-1)!.wall - marks[0]!.wall) / timed;
  const cpu = (marks.at(-1)!.cpu - marks[0]!.cpu) / timed;
  process.stdout.write(`${backend} (${r.backend.detail.split(';')[0]}), --train ${train}, batch ${batch}×${r.data.window}: `
    + `${(1 / wall).toFixed(3)} steps/s wall (${wall.toFixed(2)} s/step), ${cpu.toFixed(2)} CPU s/step, `
    + `${((batch * r.data.window) / cpu).toFixed(0)} tokens per CPU second; over ${timed} steps\n`);
}
