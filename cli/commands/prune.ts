import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { fail } from '../../src/ir/errors.js';
import { loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import type { ChannelGroup } from '../../src/passes/dependency/groups.js';
import { saveModel, writeFileAtomically } from '../../src/ir/save.js';
import { centralityPrune, DEFAULT_PRUNE_OPTIONS, groupsInScope, type CentralityPruneOptions, type PruneReport } from '../../src/passes/centralityPrune.js';
import { loadLayerRatios } from '../../src/passes/policy/layerRatios.js';
import { CRITERIA, SCORING_METHODS, type ScoringMethod } from '../../src/passes/scoring/index.js';
import { collectCalibration, DEFAULT_CALIBRATION_SAMPLES, DEFAULT_WINDOW, type CalibrationResult } from '../../src/runtime/calibration/index.js';
import { savedReport, writeReportPage } from '../../src/report/index.js';
import { formatValidationReport } from '../../src/runtime/formatReport.js';
import { validateModels, type ValidationReport } from '../../src/runtime/validate.js';
import { toDatasetOptions } from '../dataOptions.js';
import { formatTable, humanCount } from '../format/table.js';
import { addFinetuneOptions, runFinetune, summary, type FinetuneCliOptions } from './finetune.js';
import { checkPagePath } from './report.js';
import { parseInteger, parseNumberIn, refuseOverwritingInput, sameFile } from '../options.js';

interface PruneCliOptions extends Omit<FinetuneCliOptions, 'data'> {
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
  roundTo: number;
  minChannels: number;
  targetMacs?: number;
  targetParams?: number;
  report?: string;
  html?: string;
  externalData?: boolean;
  quiet?: boolean;
}

const D = DEFAULT_PRUNE_OPTIONS;

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
    .option('--calib-samples <n>', 'calibration samples to run (a seeded choice when the source has more)', parseInteger(1, '--calib-samples'), DEFAULT_CALIBRATION_SAMPLES)
    .option('--calib-window <t>', `tokens per window when --calib is a text file (default ${DEFAULT_WINDOW})`, parseInteger(2, '--calib-window'))
    .option('--compensate', 'add each removed unit\'s mean contribution to its consumers\' biases (default with --calib)')
    .option('--no-compensate', 'no bias compensation with --calib')
    .addOption(new Option('--scope <s>', 'which groups: dense (Gemm/MatMul, the paper), conv, or all').choices(['dense', 'conv', 'all']).default(D.scope))
    .option('--unweighted', 'every edge weighs 1 instead of S_ij')
    .addOption(new Option('--keep <which>', 'keep the most central channels (the paper) or the most peripheral (ablation)').choices(['central', 'peripheral']).default(D.keep))
    .addOption(new Option('--coupling <rule>', 'coupled groups: one graph over concatenated vectors, or the average of per-producer centralities').choices(['concat', 'average']).default(D.coupling))
    .option('--layers <patterns...>', 'only prune groups whose producer node names match (glob or /regex/)')
    .option('--exclude <patterns...>', 'never prune groups whose producer node names match (glob or /regex/)')
    .option('--layer-ratios <file.json>', 'per-layer ratios: {"pattern": ratio, ...} or {"default": r, "layers": {...}}')
    .option('--global', 'one ranking across all groups (scores normalised by their group mean) instead of p per group')
    .option('--round-to <n>', 'keep a multiple of n channels per group (e.g. 8 for tensor cores)', parseInteger(1, '--round-to'), D.roundTo)
    .option('--min-channels <n>', 'keep at least n channels per group', parseInteger(1, '--min-channels'), D.minChannels)
    .option('--target-macs <f>', 'choose the ratio so MACs fall to this fraction of the original', parseNumberIn(0.01, 1, '--target-macs'))
    .option('--target-params <f>', 'choose the ratio so params fall to this fraction of the original', parseNumberIn(0.01, 1, '--target-params'))
    .option('--report <file.json>', 'write a JSON report (groups with kept/removed indices, scores, convergence)')
    .option('--html <file.html>', 'write the report as one self-contained HTML page with charts (see `onnx-cprune report`)')
    .option('--external-data', 'store weights in a side file <output>.data (automatic above 2 GiB)')
    .option('-q, --quiet', 'no table, no progress bar')
    .option('--validate', 'after pruning, compare the pruned model with the original on onnxruntime (on --data\'s test split, or random inputs)')
    .option('--finetune', 'fine-tune the pruned model on --data before writing it (the whole method in one command)');
  addFinetuneOptions(cmd, { dataRequired: false })
    .action(async (input: string, opts: PruneCliOptions) => {
      if (opts.finetune && !opts.data) fail('--finetune needs --data: the labelled samples to fine-tune on');
      refuseOverwritingInput(input, opts.output);
      if (opts.report && [input, opts.output].some((p) => sameFile(p, opts.report!))) fail('--report must name a file other than the input and output models');
      // Checked before any work: a report that cannot be written would otherwise fail after the model was saved.
      if (opts.report && !existsSync(dirname(resolve(opts.report)))) fail(`cannot write the report '${opts.report}': its folder does not exist`);
      if (opts.html) checkPagePath('--html', opts.html, { files: [input, opts.output, ...(opts.report ? [opts.report] : [])], are: 'the input and output models and the report' });
      const method = opts.method ?? (opts.calib ? CALIBRATED_DEFAULT_METHOD : D.method);
      const model = loadModel(input);
      const ratios = opts.layerRatios ? loadLayerRatios(opts.layerRatios) : undefined;
      const selection = {
        scope: opts.scope, ...(opts.layers ? { layers: opts.layers } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}),
      };
      const calibration = opts.calib ? await calibrate(model, groupsInScope(model, selection), opts, method) : undefined;
      const bar = progressBar(opts.quiet);
      let report: PruneReport;
      try {
        report = await centralityPrune(model, {
          ratio: ratios?.defaultRatio ?? opts.ratio, threshold: opts.threshold, method, scope: opts.scope,
          weighted: !opts.unweighted, keep: opts.keep, coupling: opts.coupling, seed: opts.seed,
          ...(opts.layers ? { layers: opts.layers } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}),
          ...(ratios ? { layerRatios: ratios.ratios } : {}),
          global: !!opts.global, roundTo: opts.roundTo, minChannels: opts.minChannels,
          ...(opts.targetMacs !== undefined ? { targetMacs: opts.targetMacs } : {}),
          ...(opts.targetParams !== undefined ? { targetParams: opts.targetParams } : {}),
          onProgress: bar.update,
          ...(calibration ? { calibration: calibration.stats } : {}),
          ...(opts.compensate !== undefined || calibration ? { compensate: opts.compensate ?? true } : {}),
        });
      } finally {
        bar.stop();
      }
      const finetuned = opts.finetune && opts.data ? summary(await runFinetune(model, { ...opts, data: opts.data }, !opts.quiet)) : undefined;
      saveModel(model, opts.output, { externalData: opts.externalData ? true : 'auto' });
      if (!opts.quiet) process.stdout.write(summarize(report) + '\n');
      const t = report.target;
      if (t && !t.met) process.stderr.write(`onnx-cprune: warning: --target-${t.measure} ${t.fraction} is out of reach: pruning ${(100 * report.ratio).toFixed(0)}% of every group in scope leaves ${(100 * t.reached).toFixed(1)}% of the ${t.measure}\n`);
      const validation = opts.validate ? await validatePruned(input, opts) : undefined;
      const calibrationRun = calibration ? { source: calibration.source, samples: calibration.samples, ep: calibration.ep, seconds: calibration.seconds } : undefined;
      const saved = savedReport({ input, output: opts.output, report, finetune: finetuned, validation, calibration: calibrationRun });
      if (opts.report) writeFileAtomically(opts.report, JSON.stringify(saved, null, 2) + '\n');
      if (opts.html) writeReportPage(saved, opts.html);
    });
}

/**
 * The criterion `--calib` uses when no --method is given. Provisional: the LM experiment of issue 12 (bench/lm/)
 * decides which criterion keeps models best.
 */
const CALIBRATED_DEFAULT_METHOD: ScoringMethod = 'flap';

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

async function validatePruned(input: string, opts: PruneCliOptions): Promise<ValidationReport> {
  const report = await validateModels(input, opts.output, {
    ep: opts.ep, seed: opts.seed,
    ...(opts.data ? { data: opts.data, dataOptions: { ...toDatasetOptions(opts, opts.seed), split: 'test' as const } } : {}),
  });
  if (report.notice) process.stderr.write(`onnx-cprune: ${report.notice}\n`);
  if (!opts.quiet) process.stdout.write(`\n${formatValidationReport(report)}\n`);
  return report;
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

export function summarize(r: PruneReport): string {
  const pruned = r.groups.filter((g) => !g.declined);
  const rows = pruned.map((g) => [
    g.producers.length > 2 ? `${g.producers.slice(0, 2).join(', ')} +${g.producers.length - 2}` : g.producers.join(', '),
    g.kind, `${g.kept.length}/${g.channels}`,
    g.layer ? `${humanCount(g.layer.params.before)} → ${humanCount(g.layer.params.after)}` : '',
    g.layer ? `${humanCount(g.layer.macs.before)} → ${humanCount(g.layer.macs.after)}` : '',
    g.method ?? '', !g.method?.endsWith('eigenvector') ? '' : g.converged === false ? 'no' : String(g.iterations ?? ''), shorten(g.note ?? '', 60),
  ]);
  const skipped = r.groups.length - pruned.length;
  const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
  // What --scope left out: "12 conv groups" (the report counts only groups --layers / --exclude would keep).
  const outside = Object.entries(r.outOfScope ?? {}).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind} group${n === 1 ? '' : 's'}`).join(' and ');
  const nothing = outside ? `no group was pruned: --scope ${r.scope} left no ${r.scope} group to prune; --scope all would prune ${outside}` : 'no group was pruned';
  return [
    rows.length ? formatTable(['group (producers)', 'kind', 'kept', 'params', 'MACs', 'method', 'iters', 'note'], rows) : nothing,
    '',
    `params ${humanCount(r.params.before)} → ${humanCount(r.params.after)} (${pct(r.params.after, r.params.before)}),  MACs ${humanCount(r.macs.before)} → ${humanCount(r.macs.after)} (${pct(r.macs.after, r.macs.before)})`,
    `${pruned.length} group(s) pruned, ${skipped} left alone (see --report or \`onnx-cprune inspect --groups\` for why)`,
    ...(rows.length && outside ? [`--scope all would also prune ${outside}`] : []),
  ].join('\n');
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
