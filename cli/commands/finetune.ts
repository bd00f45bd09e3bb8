import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import type { Model } from '../../src/ir/model.js';
import { saveModel, sideFileOf } from '../../src/ir/save.js';
import { EP_CHOICES, type EpChoice } from '../../src/runtime/session.js';
import { DEFAULT_WINDOW } from '../../src/runtime/calibration/index.js';
import type { BackendPreference } from '../../src/train/backend.js';
import type { FinetuneOptions, FinetuneProgress, FinetuneResult } from '../../src/train/finetune.js';
import type { LmFinetuneOptions, LmFinetuneResult, LmProgress } from '../../src/train/lmFinetune.js';
import type { LmTrainMode } from '../../src/train/lmPlan.js';
import type { TrainMode } from '../../src/train/trainPlan.js';
import { fail } from '../../src/ir/errors.js';
import { addDataOptions, MAX_BATCH, MAX_SEED, MAX_WINDOW, toDatasetOptions, type DataCliOptions } from '../dataOptions.js';
import { EXTERNAL_DATA_HELP, parseInteger, parseNumberIn } from '../options.js';
import { checkSources, dataSources, loadModelFor } from '../paths.js';

/** The fine-tuning options as commander parses them; `prune --finetune` takes the same ones. */
export interface FinetuneCliOptions extends DataCliOptions {
  data: string;
  objective: 'classify' | 'lm';
  /** Defaults per objective: 5 epochs / batch 64 / head for classify, 1 epoch / batch 16 / all for lm. */
  epochs?: number;
  steps?: number;
  lr?: number;
  batch?: number;
  optimizer: 'adam' | 'sgd';
  train?: TrainMode | LmTrainMode;
  window?: number;
  valWindows?: number;
  clipNorm?: number;
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
    .description('fine-tune a model and write the trained weights back: a classifier on labelled data (onnx-cprune finetune model.onnx --data DIR -o tuned.onnx), or a decoder LM on next-token loss (--objective lm --data tokens.npy|text)')
    .argument('<model>', 'input ONNX model (never modified)')
    .requiredOption('-o, --output <file>', 'where to write the fine-tuned model (written atomically)');
  addFinetuneOptions(cmd, { dataRequired: true })
    .option('--external-data', EXTERNAL_DATA_HELP)
    .option('--json', 'print the result (history, best epoch, trained tensors) as JSON')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (modelPath: string, o: FinetuneCommandOptions) => {
      const sources = dataSources(o);
      checkSources(sources);
      const outputs = [{ path: o.output, what: 'the output model' }, { path: sideFileOf(o.output), what: 'the output\'s external data file' }];
      const model = loadModelFor(modelPath, [{ path: modelPath, what: 'the input model' }, ...sources], outputs);
      if (o.objective === 'lm') {
        const result = await runLmFinetune(model, o, o.progress);
        saveModel(result.model, o.output, { externalData: o.externalData ? true : 'auto' });
        const { model: _model, ...rest } = result;
        process.stdout.write(o.json ? `${JSON.stringify(rest, null, 2)}\n` : `${describeLm(result, o.output)}\n`);
        return;
      }
      const result = await runFinetune(model, o, o.progress);
      saveModel(result.model, o.output, { externalData: o.externalData ? true : 'auto' });
      process.stdout.write(o.json ? `${JSON.stringify(summary(result), null, 2)}\n` : `${describe(result, o.output)}\n`);
    });
}

/** Adds the fine-tuning options to a command (`finetune` itself, or `prune --finetune`). */
export function addFinetuneOptions(cmd: Command, opts: { dataRequired: boolean }): Command {
  const data = '--data <src>';
  const dataHelp = 'training data: labelled samples (a class-per-folder image directory, an IDX folder or file, a .npy array); with --objective lm a .npy of token ids [N, T] or, for a byte-level model, a text file';
  (opts.dataRequired ? cmd.requiredOption(data, dataHelp) : cmd.option(data, dataHelp));
  return addDataOptions(cmd, 'train')
    .addOption(new Option('--objective <o>', 'classify: cross-entropy on labels; lm: next-token cross-entropy over token windows, fed as evaluate feeds them (full attention mask, positions 0..T-1, empty cache)').choices(['classify', 'lm']).default('classify'))
    .option('--epochs <e>', 'training epochs (default 5; 1 with --objective lm)', parseInteger(1, '--epochs', 10_000))
    .option('--steps <n>', '--objective lm: this many optimizer steps (cycling through the windows) instead of --epochs', parseInteger(1, '--steps', 10_000_000))
    .option('--lr <rate>', 'learning rate (default 1e-3 for adam, 1e-2 for sgd)', parseNumberIn(Number.MIN_VALUE, 10, '--lr'))
    .option('--batch <b>', 'mini-batch size (default 64; 16 windows with --objective lm)', parseInteger(1, '--batch', MAX_BATCH))
    .addOption(new Option('--optimizer <o>', 'adam, or sgd with momentum 0.9').choices(['adam', 'sgd']).default('adam'))
    .addOption(new Option('--train <what>', 'classify: head (the classifier; default), dense (every dense layer after the conv trunk; both on cached trunk features) or all (every weight); lm: all (every learned parameter; default), ffn (the feed-forward layers) or attention (the Q/K/V/O projections)').choices(['head', 'dense', 'all', 'ffn', 'attention']))
    .option('--window <t>', `--objective lm: tokens per window when --data is a text file (stride = window; default ${DEFAULT_WINDOW})`, parseInteger(2, '--window', MAX_WINDOW))
    .option('--val-windows <n>', '--objective lm: windows held out to measure validation loss and keep the best weights (default 10 % of the windows, at most 128; 0: none)', parseInteger(0, '--val-windows'))
    .option('--clip-norm <x>', '--objective lm: clip gradients to this global L2 norm (default 1; 0: no clipping)', parseNumberIn(0, 1e6, '--clip-norm'))
    .option('--new-head <n>', 'replace the classifier with a fresh n-way layer (a new task)', parseInteger(1, '--new-head', 100_000))
    .option('--val-split <f>', 'classify: fraction held out to pick the best epoch', parseNumberIn(0, 0.9, '--val-split'), 0.1)
    .option('--seed <s>', 'seed of the split, shuffles, new head and dropout', parseInteger(0, '--seed', MAX_SEED), 0)
    .option('--train-bn', 'with --train all: also train BatchNormalization scale/shift (statistics stay frozen)')
    .addOption(new Option('--backend <b>', 'tfjs backend: auto tries tfjs-node, then wasm, then cpu').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
    .addOption(new Option('--ep <ep>', 'onnxruntime execution provider for the frozen trunk').choices(EP_CHOICES).default('auto'));
}

/** Loads the data for the model and fine-tunes it, drawing progress on stderr. */
export async function runFinetune(model: Model, o: FinetuneCliOptions, progress = true): Promise<FinetuneResult> {
  // Loaded on use: tfjs takes a fifth of a second to import, which every other command would pay.
  if (o.objective === 'lm') fail('prune --finetune trains classifiers (--objective classify): prune first, then run `onnx-cprune finetune pruned.onnx --objective lm`');
  const train = o.train ?? 'head';
  if (train === 'ffn' || train === 'attention') fail(`--train ${train} is for --objective lm; a classifier trains head, dense or all`);
  for (const [flag, given] of [['--steps', o.steps], ['--window', o.window], ['--val-windows', o.valWindows], ['--clip-norm', o.clipNorm]] as const) {
    if (given !== undefined) fail(`${flag} is for --objective lm`);
  }
  const { finetune, loadTrainingData } = await import('../../src/train/finetune.js');
  const dataset = await loadTrainingData(model, o.data, toDatasetOptions(o, o.seed));
  const printer = progress ? new ProgressPrinter() : undefined;
  const opts: FinetuneOptions = {
    epochs: o.epochs ?? 5, batch: o.batch ?? 64, optimizer: o.optimizer, train, valSplit: o.valSplit, seed: o.seed,
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

/** Fine-tunes a decoder LM on next-token loss over the token windows of --data, drawing progress on stderr. */
export async function runLmFinetune(model: Model, o: FinetuneCliOptions, progress = true): Promise<LmFinetuneResult> {
  const train = o.train ?? 'all';
  if (train === 'head' || train === 'dense') fail(`--train ${train} is for classifiers; with --objective lm train all, ffn or attention`);
  if (o.newHead !== undefined) fail('--new-head replaces a classifier\'s head; it does not apply to --objective lm');
  if (o.trainBn) fail('--train-bn is for classifiers with BatchNormalization; it does not apply to --objective lm');
  if (o.perClass !== undefined) fail('--per-class needs labels; token windows have none');
  if (o.steps !== undefined && o.epochs !== undefined) fail('--steps and --epochs are alternatives: give one');
  const { finetuneLm } = await import('../../src/train/lmFinetune.js');
  const opts: LmFinetuneOptions = {
    train, optimizer: o.optimizer, batch: o.batch ?? 16, seed: o.seed, backend: o.backend,
    ...(o.clipNorm !== undefined ? { clipNorm: o.clipNorm } : {}),
    ...(o.steps !== undefined ? { steps: o.steps } : { epochs: o.epochs ?? 1 }),
    ...(o.lr !== undefined ? { lr: o.lr } : {}), ...(o.window !== undefined ? { window: o.window } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(o.valWindows !== undefined ? { valWindows: o.valWindows } : {}),
  };
  const printer = progress ? new LmProgressPrinter() : undefined;
  if (printer) opts.onProgress = (p) => printer.update(p);
  try {
    return await finetuneLm(model, o.data, opts);
  } finally {
    printer?.stop();
  }
}

/** A bar over the steps with the running loss, and one line per validation point, on stderr. */
class LmProgressPrinter {
  private bar: cliProgress.SingleBar | undefined;

  update(p: LmProgress): void {
    switch (p.kind) {
      case 'start':
        this.bar = new cliProgress.SingleBar({ format: 'steps {bar} {value}/{total} loss {loss}', stream: process.stderr, clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic);
        this.bar.start(p.steps, 0, { loss: '-' });
        break;
      case 'step':
        this.bar?.update(p.step, { loss: p.loss.toFixed(4) });
        break;
      case 'eval': {
        const r = p.record;
        const val = r.valLoss !== undefined ? `  val_loss ${r.valLoss.toFixed(4)} (perplexity ${Math.exp(r.valLoss).toFixed(3)})` : '';
        const line = `step ${r.step} (epoch ${r.epoch}): train_loss ${r.trainLoss.toFixed(4)}${val}  ${r.seconds.toFixed(1)}s${p.best && r.valLoss !== undefined ? '  (best)' : ''}`;
        if (this.bar) this.bar.stop();
        process.stderr.write(`${line}\n`);
        if (this.bar && r.step < (this.bar.getTotal())) this.bar.start(this.bar.getTotal(), r.step, { loss: r.trainLoss.toFixed(4) });
        break;
      }
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

export function describeLm(r: LmFinetuneResult, output: string): string {
  const best = r.history.find((h) => h.step === r.bestStep);
  const ppl = (nll: number): string => `${nll.toFixed(4)} nats/token (perplexity ${Math.exp(nll).toFixed(3)}${r.data.bytes ? `, ${(nll / Math.LN2).toFixed(4)} bits/byte` : ''})`;
  const s = r.settings;
  const lines = [
    `wrote ${output}`,
    `trained (${r.mode}): ${r.trained.length} tensors`,
    `windows of ${r.data.window} tokens: ${r.data.train} train, ${r.data.val} validation; backend ${r.backend.detail}`,
    `${s.steps} steps of ${s.batch} windows, ${s.optimizer} lr ${s.lr}, clip ${s.clipNorm}, seed ${s.seed}: ${r.stepsPerSecond.toFixed(3)} steps/s`,
  ];
  if (best?.valLoss !== undefined && r.initialValLoss !== undefined) {
    lines.push(`validation loss ${ppl(best.valLoss)} at step ${r.bestStep} (before training: ${ppl(r.initialValLoss)})`);
  } else if (best) {
    lines.push(`training loss over the last steps ${ppl(best.trainLoss)} (no validation windows)`);
  }
  return lines.join('\n');
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
