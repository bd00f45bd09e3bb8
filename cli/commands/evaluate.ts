import { Option, type Command } from 'commander';
import { DEFAULT_WINDOW } from '../../src/runtime/calibration/index.js';
import { evaluateModel, formatEvaluation } from '../../src/runtime/evaluate.js';
import { EP_CHOICES, type EpChoice } from '../../src/runtime/session.js';
import { addDataOptions, MAX_BATCH, MAX_SEED, MAX_WINDOW, toDatasetOptions, type DataCliOptions } from '../dataOptions.js';
import { parseInteger } from '../options.js';
import { checkSources, dataSources } from '../paths.js';

interface EvaluateCliOptions extends DataCliOptions {
  data: string;
  perplexity?: boolean;
  window?: number;
  batch?: number;
  ep: EpChoice;
  seed: number;
  json?: boolean;
}

export function registerEvaluate(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('one model\'s quality: top-1 accuracy of a classifier, or the perplexity of a language model over token windows')
    .argument('<model>', 'the ONNX model')
    .requiredOption('--data <src>', 'labelled samples (what validate takes), or for a model over token ids a .npy of ids [N, T] or, for a byte-level model, a text file')
    .option('--perplexity', 'require perplexity (the default for a model over token ids; refused for other models)')
    .option('--window <t>', `tokens per window when --data is a text file (stride = window; default ${DEFAULT_WINDOW})`, parseInteger(2, '--window', MAX_WINDOW))
    .option('--batch <b>', 'samples or windows per run (default 32 samples, 16 windows)', parseInteger(1, '--batch', MAX_BATCH))
    .addOption(new Option('--ep <ep>', 'execution provider: auto uses CUDA when it loads, else the CPU').choices(EP_CHOICES).default('auto'))
    .option('--seed <s>', 'seed of the --limit / --per-class choice', parseInteger(0, '--seed', MAX_SEED), 0)
    .option('--json', 'print the report as JSON');
  addDataOptions(cmd, 'test')
    .action(async (model: string, o: EvaluateCliOptions) => {
      checkSources(dataSources(o));
      const { limit, ...dataOptions } = toDatasetOptions(o, o.seed);
      const report = await evaluateModel(model, o.data, {
        ep: o.ep, dataOptions, seed: o.seed,
        ...(limit !== undefined ? { limit } : {}), ...(o.window !== undefined ? { window: o.window } : {}),
        ...(o.batch !== undefined ? { batch: o.batch } : {}), ...(o.perplexity ? { perplexity: true } : {}),
      });
      if (report.notice) process.stderr.write(`onnx-cprune: ${report.notice}\n`);
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatEvaluation(report)}\n`);
    });
}
