import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import { fail } from '../../src/ir/errors.js';
import { parseNumberIn } from '../options.js';

interface PruneOptions {
  output: string;
  ratio: number;
  externalData?: boolean;
}

export function registerPrune(program: Command): void {
  program
    .command('prune', { isDefault: true })
    .description('prune a model: onnx-cprune in.onnx -o out.onnx [--ratio 0.3]')
    .argument('<model>', 'input ONNX model (never modified)')
    .requiredOption('-o, --output <file>', 'where to write the pruned model (written atomically)')
    .option('--ratio <p>', 'fraction of channels to remove from each prunable group', parseNumberIn(0, 0.99, '--ratio'), 0.3)
    .option('--external-data', 'store weights in a side file <output>.data (automatic above 2 GiB)')
    .action((model: string, opts: PruneOptions) => {
      if (resolve(model) === resolve(opts.output)) fail('the output path is the input model: refusing to overwrite the input');
      const m = loadModel(model);
      if (opts.ratio > 0) fail('pruning with --ratio > 0 needs the centrality pass, which is not built yet');
      saveModel(m, opts.output, { externalData: opts.externalData ? true : 'auto' });
    });
}
