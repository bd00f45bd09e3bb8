import { InvalidArgumentError, Option, type Command } from 'commander';
import type { DatasetOptions } from '../../src/runtime/data/types.js';
import { formatValidationReport } from '../../src/runtime/formatReport.js';
import { EP_CHOICES, type EpChoice } from '../../src/runtime/session.js';
import { validateModels } from '../../src/runtime/validate.js';
import { parseInteger, parseNumberIn } from '../options.js';

interface ValidateCliOptions {
  data?: string;
  random?: number;
  ep: EpChoice;
  batch: number;
  runs: number;
  warmup: number;
  seed: number;
  latency: boolean;
  json?: boolean;
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

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('run an original and a pruned model on the same inputs: output deviation, top-1 agreement, accuracy, latency, params and MACs')
    .argument('<original>', 'the original ONNX model')
    .argument('<pruned>', 'the pruned ONNX model')
    .option('--data <src>', 'samples: a class-per-folder image directory, an IDX folder or file (MNIST format), or a .npy array')
    .option('--random <n>', 'seeded random inputs instead of data (default when --data is absent: 32)', parseInteger(1, '--random'))
    .addOption(new Option('--ep <ep>', 'execution provider: auto uses CUDA when it loads, else the CPU').choices(EP_CHOICES).default('auto'))
    .option('--batch <b>', 'larger batch size for comparison and throughput', parseInteger(1, '--batch'), 32)
    .option('--runs <r>', 'timed runs per model and batch size (median reported)', parseInteger(1, '--runs'), 10)
    .option('--warmup <w>', 'untimed runs before timing', parseInteger(0, '--warmup'), 3)
    .option('--no-latency', 'skip the latency measurement')
    .option('--seed <s>', 'seed for random inputs and sample selection', parseInteger(0, '--seed'), 0)
    .option('--json', 'print the report as JSON')
    .option('--limit <n>', 'use at most n samples (a seeded random choice)', parseInteger(1, '--limit'))
    .option('--per-class <k>', 'use at most k samples per class', parseInteger(1, '--per-class'))
    .addOption(new Option('--split <s>', 'which part of an IDX folder or train/test image folder').choices(['train', 'test']).default('test'))
    .option('--labels <file>', 'labels .npy for a .npy data file (default <name>_labels.npy beside it)')
    .option('--size <HxW>', 'resize images (default: the model input size)', parseSize)
    .addOption(new Option('--channels <c>', 'image channels (default: the model input channels)').choices(['1', '3']).argParser((s) => Number(s) as 1 | 3))
    .addOption(new Option('--layout <l>', 'image layout (default: from the model input shape)').choices(['nchw', 'nhwc']))
    .option('--mean <list>', 'per-channel mean after scaling (default: ImageNet for colour image folders, else 0)', parseList('--mean'))
    .option('--std <list>', 'per-channel std after scaling (default: ImageNet for colour image folders, else 1)', parseList('--std'))
    .option('--scale <n>', 'divide raw values by n (default 255 for 8-bit data, else 1)', parseNumberIn(Number.MIN_VALUE, Number.MAX_VALUE, '--scale'))
    .addOption(new Option('--fit <f>', 'how folder images meet --size: stretch or scale and centre-crop').choices(['fill', 'cover']))
    .action(async (original: string, pruned: string, o: ValidateCliOptions) => {
      const report = await validateModels(original, pruned, {
        ep: o.ep,
        data: o.data,
        random: o.random,
        batch: o.batch,
        runs: o.runs,
        warmup: o.warmup,
        seed: o.seed,
        latency: o.latency,
        dataOptions: dataOptions(o),
      });
      if (report.notice) process.stderr.write(`onnx-cprune: ${report.notice}\n`);
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatValidationReport(report)}\n`);
    });
}

/** Only the options the user gave, so the model-derived defaults fill the rest. */
function dataOptions(o: ValidateCliOptions): DatasetOptions {
  const d: DatasetOptions = { split: o.split };
  if (o.limit !== undefined || o.perClass !== undefined) d.seed = o.seed;
  for (const k of ['limit', 'perClass', 'labels', 'size', 'channels', 'layout', 'mean', 'std', 'scale', 'fit'] as const) {
    if (o[k] !== undefined) (d as Record<string, unknown>)[k] = o[k];
  }
  return d;
}

function parseSize(s: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(s.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`--size must be HxW, e.g. 224x224, got '${s}'`);
  return [Number(m[1]), Number(m[2])];
}

function parseList(what: string): (s: string) => number[] {
  return (s) => {
    const v = s.split(',').map((x) => Number(x.trim()));
    if (v.length === 0 || v.some((x) => !Number.isFinite(x) || s.trim() === '')) throw new InvalidArgumentError(`${what} must be comma-separated numbers, got '${s}'`);
    return v;
  };
}
