import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { fail } from '../../src/ir/errors.js';
import type { Model } from '../../src/ir/model.js';
import type { ChannelGroup } from '../../src/passes/dependency/groups.js';
import { centralityPrune, DEFAULT_PRUNE_OPTIONS, groupsInScope, type CentralityPruneOptions, type PruneReport } from '../../src/passes/centralityPrune.js';
import { loadLayerRatios } from '../../src/passes/policy/layerRatios.js';
import type { RoundingChoice } from '../../src/passes/policy/rounding.js';
import { CALIBRATED_DEFAULT_METHOD, compensatesByDefault, CRITERIA, SCORING_METHODS, type ScoringMethod } from '../../src/passes/scoring/index.js';
import { savedReport } from '../../src/report/index.js';
import { collectCalibration, DEFAULT_CALIBRATION_SAMPLES, DEFAULT_WINDOW, type CalibrationResult } from '../../src/runtime/calibration/index.js';
import { formatValidationReport } from '../../src/runtime/formatReport.js';
import { autoRounding } from '../../src/runtime/hardware.js';
import { createLatencyMeter } from '../../src/runtime/layerCosts.js';
import { compareLatency } from '../../src/runtime/latency.js';
import { MAX_RANDOM_SAMPLES, validateModels, type ValidationReport } from '../../src/runtime/validate.js';
import { MAX_WINDOW, toDatasetOptions } from '../dataOptions.js';
import { describeLatencyTarget, formatLatency, summarize } from '../format/pruneSummary.js';
import { planGenaiConfig } from '../genaiConfig.js';
import { collectPattern, EXTERNAL_DATA_HELP, parseAutoOrInteger, parseInteger, parseNumberIn } from '../options.js';
import { checkSources, loadModelFor } from '../paths.js';
import { addFinetuneOptions, runFinetune, summary, type FinetuneCliOptions } from './finetune.js';
import { pruneFiles, writePruneOutputs } from './pruneFiles.js';

export interface PruneCliOptions extends Omit<FinetuneCliOptions, 'data'> {
  data?: string;
  validate?: boolean;
  finetune?: boolean;
  output: string;
  ratio: number;
  threshold: number;
  method?: ScoringMethod;
  calib?: string;
  calibSamples: number;
  calibWindow?: number;
  compensate?: boolean;
  scope: CentralityPruneOptions['scope'];
  unweighted?: boolean;
  keep: CentralityPruneOptions['keep'];
  coupling: CentralityPruneOptions['coupling'];
  layers?: string[];
  exclude?: string[];
  layerRatios?: string;
  global?: boolean;
  pruneResidual?: boolean;
  roundTo: 'auto' | number;
  minChannels: number;
  targetMacs?: number;
  targetParams?: number;
  targetLatency?: number;
  threads?: number;
  latencyCache?: string;
  report?: string;
  html?: string;
  externalData?: boolean;
  quiet?: boolean;
  uniformHeads?: boolean;
}

const D = DEFAULT_PRUNE_OPTIONS;
/** Largest --round-to / --min-channels: no layer has more channels than this. */
const MAX_CHANNELS = 2 ** 20;

export function registerPrune(program: Command): void {
  const cmd = program
    .command('prune', { isDefault: true })
    .description('prune a model by eigenvector centrality: onnx-cprune in.onnx -o out.onnx [--ratio 0.3]')
    .argument('<model>', 'input ONNX model (never modified)')
    .requiredOption('-o, --output <file>', 'where to write the pruned model (written atomically)')
    .option('--ratio <p>', 'fraction p of each group\'s channels to remove, k = ⌊p·n⌋', parseNumberIn(0, 0.99, '--ratio'), D.ratio)
    .option('--threshold <tau>', 'cosine-similarity threshold τ for an edge (S_ij > τ)', parseNumberIn(-1, 1, '--threshold'), D.threshold)
    .addOption(new Option('--method <m>', `channel criterion (default: ${D.method}; with --calib: ${CALIBRATED_DEFAULT_METHOD})`).choices(SCORING_METHODS))
    .option('--calib <src>', 'calibration samples for the activation-aware criteria and --compensate: what --data takes, or for a model over token ids a .npy of ids [N, T] (a text file for a byte-level model)')
    .option('--calib-samples <n>', 'calibration samples to run (a seeded choice when the source has more)', parseInteger(1, '--calib-samples', MAX_RANDOM_SAMPLES), DEFAULT_CALIBRATION_SAMPLES)
    .option('--calib-window <t>', `tokens per window when --calib is a text file (default ${DEFAULT_WINDOW})`, parseInteger(2, '--calib-window', MAX_WINDOW))
    .option('--compensate', `add each removed unit's mean contribution to its consumers' biases (default with --calib and --method ${SCORING_METHODS.filter(compensatesByDefault).join('/')})`)
    .option('--no-compensate', `no bias compensation (the default with --calib for every criterion but ${SCORING_METHODS.filter(compensatesByDefault).join('/')})`)
    .addOption(new Option('--scope <s>', 'which groups: dense (Gemm/MatMul, the paper), conv, or all').choices(['dense', 'conv', 'all']).default(D.scope))
    .option('--unweighted', 'every edge weighs 1 instead of S_ij')
    .addOption(new Option('--keep <which>', 'keep the most central channels (the paper) or the most peripheral (ablation)').choices(['central', 'peripheral']).default(D.keep))
    .addOption(new Option('--coupling <rule>', 'coupled groups: one graph over concatenated vectors, or the average of per-producer centralities').choices(['concat', 'average']).default(D.coupling))
    .option('--layers <patterns...>', 'only prune groups whose producer node names match (glob or /regex/)', collectPattern('--layers'))
    .option('--exclude <patterns...>', 'never prune groups whose producer node names match (glob or /regex/)', collectPattern('--exclude'))
    .option('--layer-ratios <file.json>', 'per-layer ratios: {"pattern": ratio, ...} or {"default": r, "layers": {...}}')
    .option('--global', 'one ranking across all groups (scores normalised by their group mean) instead of p per group')
    .option('--prune-residual', 'prune residual streams too (channels that residual Adds sum across blocks; kept at full width by default: cutting them makes a model thinner faster than it makes it faster)')
    .option('--round-to <auto|n>', 'round each group\'s kept channels to the nearest multiple of n; auto: what the --ep runs fastest (CPU: the NCHWc block, 16 with AVX-512, else 8, conv groups only; CUDA: 8); 1: exact ⌊p·n⌋', parseAutoOrInteger('--round-to', MAX_CHANNELS), 'auto')
    .option('--min-channels <n>', 'keep at least n channels per group', parseInteger(1, '--min-channels', MAX_CHANNELS), D.minChannels)
    .option('--uniform-heads', 'remove the same number of attention heads (KV groups) in every layer (default for a decoder with a KV cache)')
    .option('--no-uniform-heads', 'let each layer\'s ratio decide its own head count')
    .option('--target-macs <f>', 'choose the ratio so MACs fall to this fraction of the original', parseNumberIn(0.01, 1, '--target-macs'))
    .option('--target-params <f>', 'choose the ratio so params fall to this fraction of the original', parseNumberIn(0.01, 1, '--target-params'))
    .option('--target-latency <f>', 'choose per-group widths so the latency measured on --ep (at --batch when given, else 1) falls to this fraction of the original\'s', parseNumberIn(0.01, 1, '--target-latency'))
    .option('--threads <n>', 'onnxruntime intra-op threads for latency measurements (default: one per core)', parseInteger(1, '--threads', 1024))
    .option('--latency-cache <dir>', 'folder of the --target-latency lookup tables (default: $ONNX_CPRUNE_CACHE, else the OS cache folder /onnx-cprune)')
    .option('--report <file.json>', 'write a JSON report (groups with kept/removed indices, scores, convergence)')
    .option('--html <file.html>', 'write the report as one self-contained HTML page with charts (see `onnx-cprune report`)')
    .option('--external-data', EXTERNAL_DATA_HELP)
    .option('-q, --quiet', 'no table, no progress bar')
    .option('--validate', 'after pruning, compare the pruned model with the original on onnxruntime (on --data\'s test split, or random inputs)')
    .option('--finetune', 'fine-tune the pruned model on --data before writing it (the whole method in one command)');
  addFinetuneOptions(cmd, { dataRequired: false })
    .action(async (input: string, opts: PruneCliOptions, command: Command) => {
      if (opts.finetune && !opts.data) fail('--finetune needs --data: the labelled samples to fine-tune on');
      // Everything the run reads and writes is checked before any work: a run never fails after writing.
      const { sources, reads, outputs } = pruneFiles(input, opts);
      checkSources(sources);
      const model = loadModelFor(input, reads, outputs);
      const ratios = opts.layerRatios ? loadLayerRatios(opts.layerRatios) : undefined;
      const rounding = await roundingOf(opts);
      const method = opts.method ?? (opts.calib ? CALIBRATED_DEFAULT_METHOD : D.method);
      const selection = { scope: opts.scope, ...(opts.layers ? { layers: opts.layers } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}) };
      const calibration = opts.calib ? await calibrate(model, groupsInScope(model, selection), opts, method) : undefined;
      // --batch is the fine-tuning batch (default 64); latency is timed at it only when it was given.
      const latencyBatch = command.getOptionValueSource('batch') === 'cli' ? opts.batch : undefined;
      const meter = opts.targetLatency !== undefined ? createLatencyMeter(model, { ep: opts.ep, batch: latencyBatch ?? 1, threads: opts.threads ?? 0, ...(opts.latencyCache ? { cacheDir: opts.latencyCache } : {}), seed: opts.seed }) : undefined;
      const bar = progressBar(opts.quiet);
      let report: PruneReport;
      try {
        report = await centralityPrune(model, {
          ratio: ratios?.defaultRatio ?? opts.ratio, threshold: opts.threshold, method, scope: opts.scope,
          weighted: !opts.unweighted, keep: opts.keep, coupling: opts.coupling, seed: opts.seed,
          ...(opts.layers ? { layers: opts.layers } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}),
          ...(ratios ? { layerRatios: ratios.ratios } : {}),
          global: !!opts.global, pruneResidual: !!opts.pruneResidual, roundTo: rounding.multiple, roundDense: rounding.dense, roundReason: rounding.reason, minChannels: opts.minChannels,
          ...(opts.uniformHeads !== undefined ? { uniformHeads: opts.uniformHeads } : {}),
          ...(opts.targetMacs !== undefined ? { targetMacs: opts.targetMacs } : {}),
          ...(opts.targetParams !== undefined ? { targetParams: opts.targetParams } : {}),
          ...(meter ? { targetLatency: opts.targetLatency, latencyMeter: meter } : {}),
          onProgress: bar.update,
          ...(calibration ? { calibration: calibration.stats } : {}),
          ...(opts.compensate !== undefined || calibration ? { compensate: opts.compensate ?? compensatesByDefault(method) } : {}),
        });
      } finally {
        bar.stop();
        await meter?.close();
      }
      const finetuned = opts.finetune && opts.data ? summary(await runFinetune(model, { ...opts, data: opts.data }, !opts.quiet)) : undefined;
      // Validated and timed from memory, before anything is written: a failure leaves no output behind.
      const secondBatch = latencyBatch ?? 32;
      const lt = report.latencyTarget;
      const validation = opts.validate ? await validatePruned(input, model, opts, secondBatch) : undefined;
      const latency = validation
        ? (validation.latency.length ? { ep: validation.ep, threads: opts.threads ?? 0, points: validation.latency } : undefined)
        : lt ? await compareLatency(input, model, { ep: opts.ep, batches: [1, secondBatch], threads: opts.threads ?? 0, seed: opts.seed }) : undefined;
      const latencyTiming = meter ? { ep: meter.ep ?? 'cpu', batch: meter.batch, threads: opts.threads ?? 0, clock: meter.clock } : undefined;
      const calibrationRun = calibration ? { source: calibration.source, samples: calibration.samples, ep: calibration.ep, seconds: calibration.seconds } : undefined;
      const saved = savedReport({ input, output: opts.output, report, finetune: finetuned, validation, latency, latencyTiming, calibration: calibrationRun });
      const genai = planGenaiConfig(input, opts.output, report.decoder);
      writePruneOutputs(model, opts, saved, genai.file);

      if (!opts.quiet) process.stdout.write([summarize(report), ...genai.lines].join('\n') + '\n');
      for (const w of genai.warnings) process.stderr.write(`onnx-cprune: warning: ${w}\n`);
      const t = report.target;
      if (t && !t.met) process.stderr.write(`onnx-cprune: warning: --target-${t.measure} ${t.fraction} is out of reach: pruning ${(100 * report.ratio).toFixed(0)}% of every group in scope leaves ${(100 * t.reached).toFixed(1)}% of the ${t.measure}\n`);
      if (meter?.notice) process.stderr.write(`onnx-cprune: ${meter.notice}\n`);
      if (lt) {
        if (!opts.quiet) process.stdout.write(`${describeLatencyTarget(lt, meter!)}\n`);
        if (!lt.met) process.stderr.write(`onnx-cprune: warning: --target-latency ${lt.fraction} is out of reach: the closest widths tried measure ${lt.measured.toFixed(3)} of the original's latency (predicted ${lt.predicted.toFixed(3)})\n`);
      }
      if (validation?.notice) process.stderr.write(`onnx-cprune: ${validation.notice}\n`);
      if (!opts.quiet && validation) process.stdout.write(`\n${formatValidationReport(validation)}\n`);
      if (!opts.quiet && latency && !validation) process.stdout.write(`${formatLatency(latency)}\n`);
    });
}

/** Runs the original model on the calibration samples and measures every in-scope group's activations. */
async function calibrate(model: Model, groups: ChannelGroup[], opts: PruneCliOptions, method: ScoringMethod): Promise<CalibrationResult> {
  const { limit: _limit, ...dataOptions } = toDatasetOptions(opts, opts.seed);
  const result = await collectCalibration(model, groups, opts.calib!, {
    ep: opts.ep, samples: opts.calibSamples, seed: opts.seed, dataOptions, gram: CRITERIA[method].needs === 'gram',
    ...(opts.calibWindow !== undefined ? { window: opts.calibWindow } : {}),
  });
  if (result.notice) process.stderr.write(`onnx-cprune: ${result.notice}\n`);
  if (!opts.quiet) process.stdout.write(`calibration: ${result.source}, ${groups.length} group(s), ${result.seconds.toFixed(1)} s on ${result.ep}\n`);
  return result;
}

/** --round-to as a multiple: auto asks the hardware the models will run on (--ep). */
async function roundingOf(opts: PruneCliOptions): Promise<RoundingChoice> {
  if (opts.roundTo === 'auto') {
    const auto = await autoRounding(opts.ep);
    return { ...auto, reason: `auto: ${auto.multiple} (${auto.reason})` };
  }
  return { multiple: opts.roundTo, dense: true, reason: `--round-to ${opts.roundTo}` };
}

/** The pruned model (in memory, not yet written) against the original, named by the path it will be written to. */
async function validatePruned(input: string, pruned: Model, opts: PruneCliOptions, batch: number): Promise<ValidationReport> {
  return validateModels(input, pruned, {
    ep: opts.ep, seed: opts.seed, batch, names: { pruned: opts.output }, ...(opts.threads ? { threads: opts.threads } : {}),
    ...(opts.data ? { data: opts.data, dataOptions: { ...toDatasetOptions(opts, opts.seed), split: 'test' as const } } : {}),
  });
}

/** A progress bar on stderr while groups are scored, only on a terminal and only when there are several groups. */
function progressBar(quiet: boolean | undefined): { update: (done: number, total: number, label: string) => void; stop: () => void } {
  if (quiet || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update: (done, total, label) => {
      if (total < 4) return;
      if (!bar) {
        bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'scoring [{bar}] {value}/{total} {label}', clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(total, 0, { label });
      }
      bar.update(done, { label });
    },
    stop: () => bar?.stop(),
  };
}
