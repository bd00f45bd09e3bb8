import { Option, type Command } from 'commander';
import { formatValidationReport } from '../../src/runtime/formatReport.js';
import { EP_CHOICES, type EpChoice } from '../../src/runtime/session.js';
import { MAX_RANDOM_SAMPLES, validateModels } from '../../src/runtime/validate.js';
import { addDataOptions, MAX_BATCH, MAX_SEED, toDatasetOptions, type DataCliOptions } from '../dataOptions.js';
import { parseInteger } from '../options.js';
import { checkSources, dataSources } from '../paths.js';

interface ValidateCliOptions extends DataCliOptions {
  data?: string;
  random?: number;
  ep: EpChoice;
  batch: number;
  runs: number;
  warmup: number;
  seed: number;
  latency: boolean;
  json?: boolean;
}

export function registerValidate(program: Command): void {
  const cmd = program
    .command('validate')
    .description('run an original and a pruned model on the same inputs: output deviation, top-1 agreement, accuracy, latency, params and MACs')
    .argument('<original>', 'the original ONNX model')
    .argument('<pruned>', 'the pruned ONNX model')
    .option('--data <src>', 'samples: a class-per-folder image directory, an IDX folder or file (MNIST format), or a .npy array')
    .option('--random <n>', 'seeded random inputs instead of data (default when --data is absent: 32)', parseInteger(1, '--random', MAX_RANDOM_SAMPLES))
    .addOption(new Option('--ep <ep>', 'execution provider: auto uses CUDA when it loads, else the CPU').choices(EP_CHOICES).default('auto'))
    .option('--batch <b>', 'larger batch size for comparison and throughput', parseInteger(1, '--batch', MAX_BATCH), 32)
    .option('--runs <r>', 'timed runs per model and batch size (median reported)', parseInteger(1, '--runs', 10_000), 10)
    .option('--warmup <w>', 'untimed runs before timing', parseInteger(0, '--warmup', 1_000), 3)
    .option('--no-latency', 'skip the latency measurement')
    .option('--seed <s>', 'seed for random inputs and sample selection', parseInteger(0, '--seed', MAX_SEED), 0)
    .option('--json', 'print the report as JSON');
  addDataOptions(cmd, 'test')
    .action(async (original: string, pruned: string, o: ValidateCliOptions) => {
      checkSources(dataSources(o));
      const report = await validateModels(original, pruned, {
        ep: o.ep,
        data: o.data,
        random: o.random,
        batch: o.batch,
        runs: o.runs,
        warmup: o.warmup,
        seed: o.seed,
        latency: o.latency,
        dataOptions: toDatasetOptions(o, o.seed),
      });
      if (report.notice) process.stderr.write(`onnx-cprune: ${report.notice}\n`);
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatValidationReport(report)}\n`);
    });
}
