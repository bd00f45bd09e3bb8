import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, std } from '../paper/stats.js';
import { linePlot, PALETTE, type LinePanel } from '../paper/svg.js';
import { CRITERIA, EVAL_LIMIT, FINETUNE_ARGS, FINETUNE_CRITERIA, HEADLINE_RATIO, RATIOS, relative, ROOT, type Arm, type Latency } from './config.js';

/** bench/results/lm.md and lm_ratio.svg from the experiment's cached arms. */

const RESULTS = join(ROOT, 'bench', 'results');
const ROWS = ['none', ...CRITERIA] as const;

function cell(xs: number[], fmt: (x: number) => string): string {
  if (!xs.length) return '–';
  return xs.length === 1 ? fmt(xs[0]!) : `${fmt(mean(xs))} ± ${fmt(std(xs))}`;
}

const select = (arms: Arm[], part: Arm['part'], criterion: string, ratio: number, compensate: boolean): Arm[] =>
  arms.filter((a) => a.part === part && !a.full && a.criterion === criterion && (criterion === 'none' || (a.ratio === ratio && a.compensate === compensate)));

/** One row per criterion, one column per (ratio, compensation): mean ± sample std over seeds, the seed count after. */
function table(arms: Arm[], part: Arm['part'], ratios: number[], value: (a: Arm) => number | undefined, fmt: (x: number) => string): string {
  const cols = ratios.flatMap((r) => [false, true].map((c) => ({ r, c })));
  const head = cols.map(({ r, c }) => `${Math.round(100 * r)} %${c ? ', --compensate' : ''}`);
  const rows = ROWS.map((criterion) => {
    const cells = cols.map(({ r, c }) => {
      if (criterion === 'none') return r === ratios[0] && !c ? cell(select(arms, part, 'none', 0, false).map(value).filter((x): x is number => x !== undefined), fmt) : '';
      const xs = select(arms, part, criterion, r, c).map(value).filter((x): x is number => x !== undefined);
      return xs.length > 1 ? `${cell(xs, fmt)} (${xs.length})` : cell(xs, fmt);
    });
    return `| ${criterion} | ${cells.join(' | ')} |`;
  });
  return [`| criterion | ${head.join(' | ')} |`, `| --- |${' --- |'.repeat(head.length)}`, ...rows].join('\n');
}

/** What each ratio removes: widths, params, MACs per token and single-thread latency (from the l2 arms, seed 0). */
function shapeTable(arms: Arm[], latency: Latency[]): string {
  const rows = RATIOS.flatMap((r) => [false, true].map((c) => {
    const a = arms.find((x) => x.part === 'lm' && x.criterion === 'l2' && x.ratio === r && x.compensate === c && x.seed === 0);
    if (!a || a.params === undefined) return '';
    const heads = a.widths!.filter((w) => w.endsWith('/4'))[0] ?? '?';
    const ffn = a.widths!.filter((w) => w.endsWith('/384'))[0] ?? '?';
    const l = latency.find((x) => x.ratio === r && x.compensate === c);
    const pct = (after: number, before: number): string => `${after.toLocaleString('en-US')} (−${(100 * (1 - after / before)).toFixed(1)} %)`;
    return `| ${Math.round(100 * r)} %${c ? ', --compensate' : ''} | ${ffn} | ${heads} (${2 * Number(heads.split('/')[0])} of 8 query heads) | ${pct(a.params, a.paramsBefore!)} | ${pct(a.macs!, a.macsBefore!)} | ${l ? `${l.originalMs.toFixed(2)} → ${l.prunedMs.toFixed(2)} (×${l.ratioToOriginal.toFixed(2)})` : '–'} |`;
  })).filter(Boolean);
  return ['| ratio | FFN neurons kept per layer | KV groups kept per layer | params | MACs per token | latency, ms per 128-byte window (1 thread) |',
    '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

function ratioPlot(arms: Arm[]): string {
  const none = select(arms, 'lm', 'none', 0, false)[0];
  const panels: LinePanel[] = [false, true].map((c) => ({
    title: c ? 'with --compensate' : 'without compensation',
    xTicks: RATIOS,
    series: [
      ...CRITERIA.map((criterion, i) => ({
        name: criterion, color: PALETTE[i]!,
        points: RATIOS.flatMap((x) => {
          const xs = select(arms, 'lm', criterion, x, c).map((a) => a.bitsPerByte!).filter((v) => v !== undefined);
          return xs.length ? [{ x, mean: mean(xs), std: std(xs) }] : [];
        }),
      })),
      ...(none?.bitsPerByte !== undefined ? [{ name: 'unpruned', color: '#444', dashed: true, points: RATIOS.map((x) => ({ x, mean: none.bitsPerByte!, std: 0 })) }] : []),
    ].filter((s) => s.points.length),
  }));
  return linePlot('LM: bits/byte after pruning, no fine-tuning', panels, 2, 'pruning ratio p (FFN neurons + heads)', 'held-out bits per byte, mean ± std');
}

export function writeReport(runs: Map<string, Arm>, latency: Latency[]): void {
  const arms = [...runs.values()];
  const lm = arms.filter((a) => a.part === 'lm');
  const image = arms.filter((a) => a.part === 'image');
  const tuned = arms.filter((a) => a.part === 'finetune' && a.command.includes(FINETUNE_ARGS.join(' ')));
  const full = lm.find((a) => a.full);
  const example = (part: Arm['part'], criterion: string): string => arms.find((a) => a.part === part && a.criterion === criterion && a.compensate && a.ratio === (part === 'lm' ? HEADLINE_RATIO : 0.5))?.command ?? '';
  const parts = [
    '# Issue 12: which pruning criterion keeps a language model best',
    '',
    'Generated by `nice npx tsx bench/lm/experiment.ts` (see bench/lm/README.md; every arm is the built CLI). No fine-tuning in the tables below unless said.',
  ];
  if (lm.length) {
    const ppl = (a: Arm): number => a.metric;
    parts.push('', '## Byte-level LM (`fixtures/trained/lm_kjv.onnx`, 861 312 params): FFN neurons + attention heads',
      '', `Held-out perplexity on a seeded ${EVAL_LIMIT} of the eval split's 3124 windows of 128 bytes (the same windows for every arm; the unpruned model scores ${select(lm, 'lm', 'none', 0, false)[0]?.metric.toFixed(3) ?? '?'} on them and ${full?.metric.toFixed(3) ?? '?'} on all 3124). Calibration: 128 windows of the calib split, a seeded draw. Mean ± sample std over seeds, the number of seeds in brackets: \`random\` draws its units per seed; arms that read calibration (calibrated criteria, or any criterion with \`--compensate\`) ran 3 calibration draws at 20 and 30 % and seed 0 at 50 % (\`--full\` runs 3 there too; the shared machine's time ran out); l2/eigenvector without compensation are deterministic.`,
      '', `Command per arm, e.g. \`${example('lm', 'wanda')}\`, then \`onnx-cprune evaluate <out> --data bench/out/lm/kjv_eval.txt --limit ${EVAL_LIMIT} --seed 0\`.`,
      '', `### Headline: ${Math.round(100 * HEADLINE_RATIO)} % pruned, perplexity`, '', table(lm, 'lm', [HEADLINE_RATIO], ppl, (x) => x.toFixed(3)),
      '', '### Every ratio: perplexity', '', table(lm, 'lm', RATIOS, ppl, (x) => x.toFixed(2)),
      '', '### Every ratio: bits per byte', '', table(lm, 'lm', RATIOS, (a) => a.bitsPerByte, (x) => x.toFixed(3)),
      '', '![bits per byte vs ratio](lm_ratio.svg)',
      '', '### What each ratio removes', '',
      'The residual stream (hidden 128) is left whole (`--exclude \'/o_proj|down_proj/\'`); heads go by whole KV groups (2 query heads each, 4 per layer), the same number in every layer, so ⌊p·4⌋ groups: none at 20 %. Params and MACs per token from the prune report (src/ir/stats.ts; the attention products that grow with the context are not in the per-token count). Latency: onnxruntime CPU, 1 intra-op thread, batch 1 × 128 bytes, median of 100 runs alternating with the original on this shared 2-core machine, so noisy: the ratio to the original is the figure to read (the l2 model stands for every criterion: same shapes).',
      '', shapeTable(lm, latency));
  }
  if (tuned.length) {
    const rows = FINETUNE_CRITERIA.flatMap((c) => {
      const xs = tuned.filter((a) => a.criterion === c);
      if (!xs.length) return [];
      const n = xs.length > 1 ? ` (${xs.length})` : '';
      return [`| ${c} | ${xs[0]!.compensate ? '--compensate' : 'none'} | ${cell(xs.map((a) => a.before!), (x) => x.toFixed(3))}${n} | ${cell(xs.map((a) => a.metric), (x) => x.toFixed(3))}${n} | ${cell(xs.map((a) => a.bitsPerByte!), (x) => x.toFixed(3))} | ${Math.round(mean(xs.map((a) => a.finetuneSeconds!)))} |`];
    });
    const missing = FINETUNE_CRITERIA.filter((c) => !tuned.some((a) => a.criterion === c));
    parts.push('', `### ${Math.round(100 * HEADLINE_RATIO)} % pruned, then the same short fine-tuning`, '',
      `Every pruning seed of each arm (random's units, the calibration draw; l2 and eigenvector are deterministic), with the compensation \`prune\` applies by default, then \`${tuned[0]!.command}\` (the same budget and fine-tuning seed for every arm), then the same evaluation. Seconds: mean wall time of one fine-tuning on the shared machine.`, '',
      '| criterion | compensation | perplexity pruned | perplexity fine-tuned | bits/byte fine-tuned | seconds |', '| --- | --- | --- | --- | --- | --- |', ...rows,
      ...(missing.length ? ['', `Not run (time): ${missing.join(', ')}.`] : []));
  }
  if (image.length) {
    parts.push('', '## `fixtures/trained/vgg_fashion.onnx`: `--scope all --ratio 0.5`, no fine-tuning', '',
      'Top-1 accuracy (%) on the 10 000 Fashion-MNIST test images; calibration: 128 Fashion-MNIST training images (seed 0); `random`: 3 seeds.', '',
      `Command per arm, e.g. \`${example('image', 'wanda')}\`, then \`onnx-cprune evaluate <out> --data /usr/share/datasets/fashion-mnist\`.`, '',
      table(image, 'image', [0.5], (a) => 100 * a.metric, (x) => x.toFixed(2)));
  }
  const md = relative(`${parts.join('\n')}\n`);
  writeFileSync(join(RESULTS, 'lm.md'), md);
  if (lm.length) writeFileSync(join(RESULTS, 'lm_ratio.svg'), ratioPlot(lm));
  process.stdout.write(md);
}
