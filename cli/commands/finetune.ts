import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import type { Model } from '../../src/ir/model.js';
import { saveModel, sideFileOf } from '../../src/ir/save.js';
import { EP_CHOICES, type EpChoice } from '../../src/runtime/session.js';
import type { BackendPreference } from '../../src/train/backend.js';
import type { FinetuneOptions, FinetuneProgress, FinetuneResult } from '../../src/train/finetune.js';
import type { TrainMode } from '../../src/train/trainPlan.js';
import { addDataOptions, MAX_BATCH, MAX_SEED, toDatasetOptions, type DataCliOptions } from '../dataOptions.js';
import { parseInteger, parseNumberIn } from '../options.js';
import { checkSources, dataSources, loadModelFor } from '../paths.js';

/** The fine-tuning options as commander parses them; `prune --finetune` takes the same ones. */
export interface FinetuneCliOptions extends DataCliOptions {
  data: string;
  epochs: number;
  lr?: number;
  batch: number;
  optimizer: 'adam' | 'sgd';
  train: TrainMode;
  newHead?: number;
  valSplit: number;
  seed: number;
  trainBn?: boolean;
  backend: BackendPreference;
  ep: EpChoice;
}

interface FinetuneCommandOptions extends FinetuneCliOptions {
  output: string;
  externalData?: boolean;
  json?: boolean;
  progress: boolean;
}

export function registerFinetune(program: Command): void {
  const cmd = program
    .command('finetune')
    .description('fine-tune a model on labelled data and write the trained weights back: onnx-cprune finetune model.onnx --data DIR -o tuned.onnx')
    .argument('<model>', 'input ONNX model (never modified)')
    .requiredOption('-o, --output <file>', 'where to write the fine-tuned model (written atomically)');
  addFinetuneOptions(cmd, { dataRequired: true })
    .option('--external-data', 'store weights in a side file <output>.data (automatic above 2 GiB)')
    .option('--json', 'print the result (history, best epoch, trained tensors) as JSON')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (modelPath: string, o: FinetuneCommandOptions) => {
      const sources = dataSources(o);
      checkSources(sources);
      const outputs = [{ path: o.output, what: 'the output model' }, { path: sideFileOf(o.output), what: 'the output\'s external data file' }];
      const model = loadModelFor(modelPath, [{ path: modelPath, what: 'the input model' }, ...sources], outputs);
      const result = await runFinetune(model, o, o.progress);
      saveModel(result.model, o.output, { externalData: o.externalData ? true : 'auto' });
      process.stdout.write(o.json ? `${JSON.stringify(summary(result), null, 2)}\n` : `${describe(result, o.output)}\n`);
    });
}

/** Adds the fine-tuning options to a command (`finetune` itself, or `prune --finetune`). */
export function addFinetuneOptions(cmd: Command, opts: { dataRequired: boolean }): Command {
  const data = '--data <src>';
  const dataHelp = 'labelled training data: a class-per-folder image directory, an IDX folder or file (MNIST format), or a .npy array';
  (opts.dataRequired ? cmd.requiredOption(data, dataHelp) : cmd.option(data, dataHelp));
  return addDataOptions(cmd, 'train')
    .option('--epochs <e>', 'training epochs', parseInteger(1, '--epochs', 10_000), 5)
    .option('--lr <rate>', 'learning rate (default 1e-3 for adam, 1e-2 for sgd)', parseNumberIn(Number.MIN_VALUE, 10, '--lr'))
    .option('--batch <b>', 'mini-batch size', parseInteger(1, '--batch', MAX_BATCH), 64)
    .addOption(new Option('--optimizer <o>', 'adam, or sgd with momentum 0.9').choices(['adam', 'sgd']).default('adam'))
    .addOption(new Option('--train <what>', 'head: the classifier; dense: every dense layer after the conv trunk (both on cached trunk features); all: every weight').choices(['head', 'dense', 'all']).default('head'))
    .option('--new-head <n>', 'replace the classifier with a fresh n-way layer (a new task)', parseInteger(1, '--new-head', 100_000))
    .option('--val-split <f>', 'fraction held out to pick the best epoch', parseNumberIn(0, 0.9, '--val-split'), 0.1)
    .option('--seed <s>', 'seed of the split, shuffles, new head and dropout', parseInteger(0, '--seed', MAX_SEED), 0)
    .option('--train-bn', 'with --train all: also train BatchNormalization scale/shift (statistics stay frozen)')
    .addOption(new Option('--backend <b>', 'tfjs backend: auto tries tfjs-node, then wasm, then cpu').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
    .addOption(new Option('--ep <ep>', 'onnxruntime execution provider for the frozen trunk').choices(EP_CHOICES).default('auto'));
}

/** Loads the data for the model and fine-tunes it, drawing progress on stderr. */
export async function runFinetune(model: Model, o: FinetuneCliOptions, progress = true): Promise<FinetuneResult> {
  // Loaded on use: tfjs takes a fifth of a second to import, which every other command would pay.
  const { finetune, loadTrainingData } = await import('../../src/train/finetune.js');
  const dataset = await loadTrainingData(model, o.data, toDatasetOptions(o, o.seed));
  const printer = progress ? new ProgressPrinter() : undefined;
  const opts: FinetuneOptions = {
    epochs: o.epochs, batch: o.batch, optimizer: o.optimizer, train: o.train, valSplit: o.valSplit, seed: o.seed,
    trainBatchNorm: o.trainBn ?? false, backend: o.backend, ep: o.ep,
  };
  if (o.lr !== undefined) opts.lr = o.lr;
  if (o.newHead !== undefined) opts.newHead = o.newHead;
  if (printer) opts.onProgress = (p) => printer.update(p);
  try {
    const result = await finetune(model, dataset, opts);
    if (result.features?.notice) process.stderr.write(`onnx-cprune: ${result.features.notice}\n`);
    return result;
  } finally {
    printer?.stop();
  }
}

/** A bar for the feature pass and for each epoch's batches, and one summary line per epoch, on stderr. */
class ProgressPrinter {
  private bar: cliProgress.SingleBar | undefined;

  update(p: FinetuneProgress): void {
    switch (p.kind) {
      case 'features':
        if (!this.bar) this.start('trunk features {bar} {value}/{total}', p.total);
        this.bar!.update(p.done);
        if (p.done >= p.total) this.stop();
        break;
      case 'epochStart':
        this.start(`epoch ${p.epoch}/${p.epochs} {bar} {value}/{total} loss {loss} acc {acc}`, p.batches, { loss: '-', acc: '-' });
        break;
      case 'batch':
        this.bar?.update(p.batch, { loss: p.loss.toFixed(4), acc: percent(p.accuracy) });
        break;
      case 'epochEnd': {
        this.stop();
        const r = p.record;
        const val = r.valAccuracy !== undefined ? `  val_loss ${r.valLoss!.toFixed(4)}  val_acc ${percent(r.valAccuracy)}` : '';
        process.stderr.write(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}  acc ${percent(r.accuracy)}${val}  ${r.seconds.toFixed(1)}s${p.best ? '  (best)' : ''}\n`);
        break;
      }
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private start(format: string, total: number, payload: Record<string, string> = {}): void {
    this.stop();
    this.bar = new cliProgress.SingleBar({ format, stream: process.stderr, clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic);
    this.bar.start(total, 0, payload);
  }
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The JSON result: everything but the model. */
export function summary(r: FinetuneResult): Omit<FinetuneResult, 'model'> {
  const { model: _model, ...rest } = r;
  return rest;
}

export function describe(r: FinetuneResult, output: string): string {
  const best = r.history.find((h) => h.epoch === r.bestEpoch);
  const metric = best?.valAccuracy !== undefined ? 'validation accuracy' : 'training accuracy';
  const after = best ? best.valAccuracy ?? best.accuracy : r.initial.accuracy;
  const lines = [
    `wrote ${output}`,
    `trained (${r.mode}): ${r.trained.length} tensors: ${r.trained.join(', ')}`,
    `samples: ${r.samples.train} train, ${r.samples.val} validation; backend ${r.backend.detail}`,
    `best epoch ${r.bestEpoch} of ${r.history.length}: ${metric} ${percent(after)} (before training: ${percent(r.initial.accuracy)})`,
  ];
  if (r.features) lines.push(`trunk features: ${r.features.samples} samples in ${r.features.seconds.toFixed(1)}s on onnxruntime ${r.features.ep} (${(r.features.samples / r.features.seconds).toFixed(0)} images/s)`);
  return lines.join('\n');
}
