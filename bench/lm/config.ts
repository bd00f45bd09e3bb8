import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The plan of bench/lm/experiment.ts: models, data, what is pruned, and one arm's result. */

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const OUT = join(ROOT, 'bench', 'out', 'lm', 'experiment');
export const LM = join(ROOT, 'fixtures', 'trained', 'lm_kjv.onnx');
export const VGG = join(ROOT, 'fixtures', 'trained', 'vgg_fashion.onnx');
export const FASHION = '/usr/share/datasets/fashion-mnist';
export const CALIB_TEXT = join(ROOT, 'bench', 'out', 'lm', 'kjv_calib.txt');
export const EVAL_TEXT = join(ROOT, 'bench', 'out', 'lm', 'kjv_eval.txt');
export const WINDOW = 128;
/** Eval windows per arm: a seeded 1000 of the split's 3124 (the same for every arm). */
export const EVAL_LIMIT = 1000;

export const CRITERIA = ['random', 'l2', 'eigenvector', 'activation-eigenvector', 'live-eigenvector', 'wanda', 'flap'] as const;
export type Criterion = (typeof CRITERIA)[number];
/** The criteria that read calibration statistics to score units. */
const CALIBRATED: ReadonlySet<Criterion> = new Set(['activation-eigenvector', 'live-eigenvector', 'wanda', 'flap']);
export const isCalibrated = (c: Criterion): boolean => CALIBRATED.has(c);

export const TRAIN_TEXT = join(ROOT, 'bench', 'out', 'lm', 'kjv_train.txt');

export const RATIOS = [0.2, 0.3, 0.5];
export const HEADLINE_RATIO = 0.3;
export const SEEDS = [0, 1, 2];

/**
 * "FFN neurons + attention heads": every dense group except the residual stream (the group the o_proj/down_proj
 * outputs share with the embedding, whose width is the hidden size) — heads go by whole KV groups, the same number in
 * every layer (`--uniform-heads`, the default for a decoder with a cache), and the LM head's outputs are the vocabulary.
 */
export const LM_PRUNE = ['--scope', 'dense', '--exclude', '/o_proj|down_proj/'];

/**
 * The fine-tuning arms: these criteria at the headline ratio, seed 0, each with the compensation a user gets by
 * default (none without --calib; with it, src/passes/scoring/defaults.ts), all under the same budget: Adam at
 * the default lr 1e-3, FINETUNE_STEPS steps of 16 windows of 128 bytes from a seeded 2000 of the train split's
 * windows, 32 more held out to keep the best step.
 */
export const FINETUNE_CRITERIA: readonly Criterion[] = ['random', 'l2', 'eigenvector', 'activation-eigenvector', 'wanda', 'flap'];
export const FINETUNE_STEPS = 20;
export const FINETUNE_ARGS = ['--objective', 'lm', '--steps', String(FINETUNE_STEPS), '--batch', '16', '--limit', '2000', '--val-windows', '32', '--seed', '0', '--no-progress'];

/** One arm's result: a pruned (or the original) model evaluated on held-out data. */
export interface Arm {
  part: 'lm' | 'image' | 'finetune';
  criterion: Criterion | 'none';
  ratio: number;
  compensate: boolean;
  seed: number;
  /** Perplexity (lm) or top-1 accuracy in 0..1 (image). */
  metric: number;
  bitsPerByte?: number;
  /** The original on the whole eval split rather than the seeded subset. */
  full?: boolean;
  params?: number;
  paramsBefore?: number;
  /** Per token for the LM (src/ir/stats.ts), per image for the classifier. */
  macs?: number;
  macsBefore?: number;
  /** kept/total per pruned group, in report order. */
  widths?: string[];
  pruneSeconds?: number;
  /** Fine-tuning arms: the pruned model's metric before, and the run's wall time. */
  before?: number;
  finetuneSeconds?: number;
  command: string;
}

export interface Latency {
  ratio: number;
  compensate: boolean;
  originalMs: number;
  prunedMs: number;
  ratioToOriginal: number;
}

export const relative = (s: string): string => s.replaceAll(`${ROOT}/`, '');
