/**
 * First measurement of issue 12 (FFN neurons only; heads, fine-tuning and the image protocol rerun come later):
 *
 *  - LM: the trained byte-level decoder (fixtures/trained/lm_kjv.onnx), 30 % of every FFN's neurons pruned without
 *    fine-tuning, per criterion, with and without bias compensation; held-out perplexity and bits per byte on the eval
 *    split (bench/out/lm/kjv_eval.txt, windows of 128, stride 128), calibration from the calib split (128 windows).
 *  - Image: fixtures/trained/vgg_fashion.onnx, --scope all --ratio 0.5, calibration from Fashion-MNIST's training
 *    split (128 images), top-1 accuracy on its 10 000 test images.
 *
 *    npm run build && /usr/bin/python3 bench/lm/prepare_text.py && npx tsx bench/lm/first.ts [lm|image]
 *
 * Every arm is the CLI as a user runs it (the commands are printed); `random` runs 3 seeds. Writes
 * bench/out/lm/first.json and prints the markdown tables.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const OUT = join(ROOT, 'bench', 'out', 'lm');
const LM = join(ROOT, 'fixtures', 'trained', 'lm_kjv.onnx');
const VGG = join(ROOT, 'fixtures', 'trained', 'vgg_fashion.onnx');
const FASHION = '/usr/share/datasets/fashion-mnist';
const CALIB_TEXT = join(OUT, 'kjv_calib.txt');
const EVAL_TEXT = join(OUT, 'kjv_eval.txt');

const CRITERIA = ['random', 'l2', 'eigenvector', 'activation-eigenvector', 'live-eigenvector', 'wanda', 'flap'] as const;
const SEEDS = [0, 1, 2];

interface Arm { criterion: string; compensate: boolean; seed: number; metric: number; bitsPerByte?: number; params?: number; command: string }

function cli(args: string[]): string {
  const rel = args.map((a) => (a.startsWith(ROOT) ? a.slice(ROOT.length) : a));
  process.stderr.write(`$ onnx-cprune ${rel.join(' ')}\n`);
  return execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
}

function evaluate(model: string, data: string): { metric: number; bitsPerByte?: number } {
  const r = JSON.parse(cli(['evaluate', model, '--data', data, '--ep', 'cpu', '--json'])) as { accuracy?: { accuracy: number }; perplexity?: { perplexity: number; bitsPerByte?: number } };
  return r.perplexity ? { metric: r.perplexity.perplexity, ...(r.perplexity.bitsPerByte !== undefined ? { bitsPerByte: r.perplexity.bitsPerByte } : {}) } : { metric: r.accuracy!.accuracy };
}

function runArms(name: string, model: string, prune: string[], calib: string[], evalData: string): Arm[] {
  const arms: Arm[] = [];
  const base = evaluate(model, evalData);
  arms.push({ criterion: 'none', compensate: false, seed: 0, ...base, command: `evaluate ${model} --data ${evalData}` });
  for (const criterion of CRITERIA) {
    for (const compensate of [false, true]) {
      for (const seed of criterion === 'random' ? SEEDS : [0]) {
        const out = join(OUT, `${name}-${criterion}-${compensate ? 'comp' : 'plain'}-s${seed}.onnx`);
        const report = `${out}.json`;
        const args = [model, '-o', out, ...prune, ...calib, '--method', criterion, compensate ? '--compensate' : '--no-compensate', '--seed', String(seed), '--ep', 'cpu', '-q', '--report', report];
        cli(args);
        arms.push({ criterion, compensate, seed, ...evaluate(out, evalData), command: `onnx-cprune ${args.slice(0, -2).join(' ')}` });
      }
    }
  }
  return arms;
}

function table(arms: Arm[], metric: string, fmt: (x: number) => string): string {
  const rows = ['none', ...CRITERIA].map((c) => {
    const cell = (compensate: boolean) => {
      const xs = arms.filter((a) => a.criterion === c && (c === 'none' || a.compensate === compensate)).map((a) => a.metric);
      if (!xs.length) return '';
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
      return xs.length > 1 ? `${fmt(mean)} ± ${fmt(sd)}` : fmt(mean);
    };
    return `| ${c} | ${cell(false)} | ${c === 'none' ? '' : cell(true)} |`;
  });
  return [`| criterion | ${metric} | ${metric}, --compensate |`, '| --- | --- | --- |', ...rows].join('\n');
}

const which = process.argv[2];
mkdirSync(OUT, { recursive: true });
const results: Record<string, Arm[]> = {};
if (!which || which === 'lm') {
  for (const f of [LM, CALIB_TEXT, EVAL_TEXT]) if (!existsSync(f)) throw new Error(`${f} is missing: run bench/lm/prepare_text.py and bench/lm/train_lm.py`);
  // FFN neurons only: the gate/up groups (their producers are the mlp projections).
  results.lm = runArms('lm', LM, ['--scope', 'dense', '--layers', '/mlp/', '--ratio', '0.3'], ['--calib', CALIB_TEXT, '--calib-samples', '128'], EVAL_TEXT);
  process.stdout.write(`\n### LM: held-out perplexity after pruning 30 % of FFN neurons, no fine-tuning\n\n${table(results.lm, 'perplexity', (x) => x.toFixed(3))}\n`);
}
if (!which || which === 'image') {
  results.image = runArms('vgg', VGG, ['--scope', 'all', '--ratio', '0.5'], ['--calib', FASHION, '--calib-samples', '128'], FASHION);
  process.stdout.write(`\n### vgg_fashion: test accuracy after --scope all --ratio 0.5, no fine-tuning\n\n${table(results.image, 'accuracy', (x) => (100 * x).toFixed(2))}\n`);
}
writeFileSync(join(OUT, `first-${which ?? 'all'}.json`), JSON.stringify(results, null, 1));
