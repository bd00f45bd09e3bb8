import { InvalidArgumentError, Option, type Command } from 'commander';
import type { DatasetOptions } from '../src/runtime/data/types.js';
import { parseInteger, parseNumberIn } from './options.js';

/** The data-selection and preprocessing options shared by validate, finetune and prune --validate/--finetune. */
export interface DataCliOptions {
  limit?: number;
  perClass?: number;
  split: 'train' | 'test';
  labels?: string;
  size?: [number, number];
  channels?: 1 | 3;
  layout?: 'nchw' | 'nhwc';
  mean?: number[];
  std?: number[];
  scale?: number;
  fit?: 'fill' | 'cover';
}

/** Largest batch any command runs: larger ones only exhaust memory. */
export const MAX_BATCH = 4096;
/** Longest token window (--window, --calib-window): longer than any model's context. */
export const MAX_WINDOW = 2 ** 20;
/** Seeds are 32-bit (the PRNG's state). */
export const MAX_SEED = 2 ** 32 - 1;
/** Largest image side --size accepts. */
const MAX_SIDE = 16_384;

export function addDataOptions(cmd: Command, defaultSplit: 'train' | 'test'): Command {
  return cmd
    .option('--limit <n>', 'use at most n samples (a seeded random choice)', parseInteger(1, '--limit'))
    .option('--per-class <k>', 'use at most k samples per class', parseInteger(1, '--per-class'))
    .addOption(new Option('--split <s>', 'which part of an IDX folder or train/test image folder').choices(['train', 'test']).default(defaultSplit))
    .option('--labels <file>', 'labels .npy for a .npy data file (default <name>_labels.npy beside it)')
    .option('--size <HxW>', 'resize images (default: the model input size)', parseSize)
    .addOption(new Option('--channels <c>', 'image channels (default: the model input channels)').choices(['1', '3']).argParser((s) => Number(s) as 1 | 3))
    .addOption(new Option('--layout <l>', 'image layout (default: from the model input shape)').choices(['nchw', 'nhwc']))
    .option('--mean <list>', 'per-channel mean after scaling (default: ImageNet for colour image folders, else 0)', parseList('--mean'))
    .option('--std <list>', 'per-channel std after scaling (default: ImageNet for colour image folders, else 1)', parseList('--std', true))
    .option('--scale <n>', 'divide raw values by n (default 255 for 8-bit data, else 1)', parseNumberIn(Number.MIN_VALUE, Number.MAX_VALUE, '--scale'))
    .addOption(new Option('--fit <f>', 'how folder images meet --size: stretch or scale and centre-crop').choices(['fill', 'cover']));
}

/** Only the options the user gave, so the model-derived defaults fill the rest. */
export function toDatasetOptions(o: DataCliOptions, seed: number): DatasetOptions {
  const d: DatasetOptions = { split: o.split };
  if (o.limit !== undefined || o.perClass !== undefined) d.seed = seed;
  for (const k of ['limit', 'perClass', 'labels', 'size', 'channels', 'layout', 'mean', 'std', 'scale', 'fit'] as const) {
    if (o[k] !== undefined) (d as Record<string, unknown>)[k] = o[k];
  }
  return d;
}

function parseSize(s: string): [number, number] {
  const m = /^(\d{1,6})x(\d{1,6})$/i.exec(s.trim());
  const ok = (n: number): boolean => n >= 1 && n <= MAX_SIDE;
  if (!m || !ok(Number(m[1])) || !ok(Number(m[2]))) throw new InvalidArgumentError(`--size must be HxW with sides in [1, ${MAX_SIDE}], e.g. 224x224, got '${s}'`);
  return [Number(m[1]), Number(m[2])];
}

function parseList(what: string, positive = false): (s: string) => number[] {
  return (s) => {
    const v = s.split(',').map((x) => (x.trim() === '' ? Number.NaN : Number(x.trim())));
    if (s.trim() === '' || v.some((x) => !Number.isFinite(x) || (positive && x <= 0)))
      throw new InvalidArgumentError(`${what} must be comma-separated ${positive ? 'positive ' : ''}numbers, got '${s}'`);
    return v;
  };
}
