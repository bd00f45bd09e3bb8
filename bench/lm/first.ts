/**
 * First measurement of issue 12 (FFN neurons only; heads, fine-tuning and the image protocol rerun come later):
 *
 *  - LM: the trained byte-level decoder (fixtures/trained/lm_kjv.onnx), 30 % of every FFN's neurons pruned without
 *    fine-tuning, per criterion, with and without bias compensation; held-out perplexity and bits per byte on the eval
 *    split (bench/out/lm/kjv_eval.txt, windows of 128, stride 128), calibration from the calib split (128 windows).
 *  - Image: fixtures/trained/vgg_fashion.onnx, --scope all --ratio 0.5, calibration from Fashion-MNIST's training
 *    split (128 images), top-1 accuracy on its 10 000 test images.
 *
 *    npm run build && /usr/bin/python3 bench/lm/prepare_text.py && npx tsx bench/lm/first.ts [lm|image|tables]
 *
 * Every arm is the CLI as a user runs it (the commands are printed); `random` runs 3 seeds. Writes
 * bench/out/lm/first-{lm,image}.json and bench/results/lm_first.md (`tables`: only the markdown, from those files).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

function cell(xs: number[], fmt: (x: number) => string): string {
  if (!xs.length) return '';
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  if (xs.length === 1) return fmt(mean);
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
  return `${fmt(mean)} ± ${fmt(sd)}`;
}

/** One row per criterion: the metric without and with compensation (mean ± sample std over seeds). */
function table(arms: Arm[], columns: { title: string; value: (a: Arm) => number | undefined; fmt: (x: number) => string }[]): string {
  const head = columns.flatMap((c) => [c.title, `${c.title}, --compensate`]);
  const rows = ['none', ...CRITERIA].map((criterion) => {
    const cells = columns.flatMap((c) => [false, true].map((compensate) => {
      if (criterion === 'none' && compensate) return '';
      const xs = arms.filter((a) => a.criterion === criterion && (criterion === 'none' || a.compensate === compensate)).map(c.value).filter((x): x is number => x !== undefined);
      return cell(xs, c.fmt);
    }));
    return `| ${criterion} | ${cells.join(' | ')} |`;
  });
  return [`| criterion | ${head.join(' | ')} |`, `| --- |${' --- |'.repeat(head.length)}`, ...rows].join('\n');
}

/** bench/results/lm_first.md from whichever parts have run (bench/out/lm/first-*.json). */
function writeMarkdown(): void {
  const read = (part: string): Arm[] | undefined => {
    const f = join(OUT, `first-${part}.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, Arm[]>)[part] : undefined;
  };
  const lm = read('lm');
  const image = read('image');
  const parts = ['# Issue 12, first measurement: criteria and bias compensation without fine-tuning', '',
    'Generated by `npx tsx bench/lm/first.ts` (see bench/lm/README.md). FFN neurons only; no fine-tuning; `random`: mean ± std over seeds 0, 1, 2.'];
  if (lm) {
    parts.push('', '## Byte-level LM (`fixtures/trained/lm_kjv.onnx`): 30 % of every FFN\'s neurons removed', '',
      'Held-out perplexity and bits per byte on the eval split (3124 windows of 128 bytes); calibration: 128 windows of the calib split.', '',
      `Command per arm: \`${lm.find((a) => a.criterion === 'wanda' && a.compensate)!.command}\`, then \`onnx-cprune evaluate <out> --data bench/out/lm/kjv_eval.txt\`.`, '',
      table(lm, [
        { title: 'perplexity', value: (a) => a.metric, fmt: (x) => x.toFixed(3) },
        { title: 'bits/byte', value: (a) => a.bitsPerByte, fmt: (x) => x.toFixed(3) },
      ]));
  }
  if (image) {
    parts.push('', '## `fixtures/trained/vgg_fashion.onnx`: `--scope all --ratio 0.5`', '',
      'Top-1 accuracy (%) on the 10 000 Fashion-MNIST test images; calibration: 128 training images.', '',
      `Command per arm: \`${image.find((a) => a.criterion === 'wanda' && a.compensate)!.command}\`, then \`onnx-cprune evaluate <out> --data /usr/share/datasets/fashion-mnist\`.`, '',
      table(image, [{ title: 'accuracy', value: (a) => 100 * a.metric, fmt: (x) => x.toFixed(2) }]));
  }
  const md = `${parts.join('\n')}\n`.replaceAll(ROOT, '');
  writeFileSync(join(ROOT, 'bench', 'results', 'lm_first.md'), md);
  process.stdout.write(md);
}

const which = process.argv[2];
mkdirSync(OUT, { recursive: true });
if (!which || which === 'lm') {
  for (const f of [LM, CALIB_TEXT, EVAL_TEXT]) if (!existsSync(f)) throw new Error(`${f} is missing: run bench/lm/prepare_text.py and bench/lm/train_lm.py`);
  // FFN neurons only: the gate/up groups (their producers are the mlp projections).
  const lm = runArms('lm', LM, ['--scope', 'dense', '--layers', '/mlp/', '--ratio', '0.3'], ['--calib', CALIB_TEXT, '--calib-samples', '128'], EVAL_TEXT);
  writeFileSync(join(OUT, 'first-lm.json'), JSON.stringify({ lm }, null, 1));
}
if (!which || which === 'image') {
  const image = runArms('vgg', VGG, ['--scope', 'all', '--ratio', '0.5'], ['--calib', FASHION, '--calib-samples', '128'], FASHION);
  writeFileSync(join(OUT, 'first-image.json'), JSON.stringify({ image }, null, 1));
}
writeMarkdown();
