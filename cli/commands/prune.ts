import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { fail } from '../../src/ir/errors.js';
import { loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { sideFileOf, stageModel, StagedFiles } from '../../src/ir/save.js';
import { centralityPrune, DEFAULT_PRUNE_OPTIONS, type CentralityPruneOptions, type PruneReport } from '../../src/passes/centralityPrune.js';
import { loadLayerRatios } from '../../src/passes/policy/layerRatios.js';
import { SCORING_METHODS } from '../../src/passes/scoring/index.js';
import { formatValidationReport } from '../../src/runtime/formatReport.js';
import { validateModels, type ValidationReport } from '../../src/runtime/validate.js';
import { toDatasetOptions } from '../dataOptions.js';
import { formatTable, humanCount } from '../format/table.js';
import { addFinetuneOptions, runFinetune, summary, type FinetuneCliOptions } from './finetune.js';
import { collectPattern, parseInteger, parseNumberIn } from '../options.js';
import { checkOutputs, checkSources, type RunFile } from '../paths.js';

/** Largest --round-to / --min-channels: no layer has more channels than this. */
const MAX_CHANNELS = 2 ** 20;

interface PruneCliOptions extends Omit<FinetuneCliOptions, 'data'> {
  data?: string;
  validate?: boolean;
  finetune?: boolean;
  output: string;
  ratio: number;
  threshold: number;
  method: CentralityPruneOptions['method'];
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
    .addOption(new Option('--method <m>', 'channel criterion').choices(SCORING_METHODS).default(D.method))
    .addOption(new Option('--scope <s>', 'which groups: dense (Gemm/MatMul, the paper), conv, or all').choices(['dense', 'conv', 'all']).default(D.scope))
    .option('--unweighted', 'every edge weighs 1 instead of S_ij')
    .addOption(new Option('--keep <which>', 'keep the most central channels (the paper) or the most peripheral (ablation)').choices(['central', 'peripheral']).default(D.keep))
    .addOption(new Option('--coupling <rule>', 'coupled groups: one graph over concatenated vectors, or the average of per-producer centralities').choices(['concat', 'average']).default(D.coupling))
    .option('--layers <patterns...>', 'only prune groups whose producer node names match (glob or /regex/)', collectPattern('--layers'))
    .option('--exclude <patterns...>', 'never prune groups whose producer node names match (glob or /regex/)', collectPattern('--exclude'))
    .option('--layer-ratios <file.json>', 'per-layer ratios: {"pattern": ratio, ...} or {"default": r, "layers": {...}}')
    .option('--global', 'one ranking across all groups (scores normalised by their group mean) instead of p per group')
    .option('--round-to <n>', 'keep a multiple of n channels per group (e.g. 8 for tensor cores)', parseInteger(1, '--round-to', MAX_CHANNELS), D.roundTo)
    .option('--min-channels <n>', 'keep at least n channels per group', parseInteger(1, '--min-channels', MAX_CHANNELS), D.minChannels)
    .option('--target-macs <f>', 'choose the ratio so MACs fall to this fraction of the original', parseNumberIn(0.01, 1, '--target-macs'))
    .option('--target-params <f>', 'choose the ratio so params fall to this fraction of the original', parseNumberIn(0.01, 1, '--target-params'))
    .option('--report <file.json>', 'write a JSON report (groups with kept/removed indices, scores, convergence)')
    .option('--external-data', 'store weights in a side file <output>.data (automatic above 2 GiB)')
    .option('-q, --quiet', 'no table, no progress bar')
    .option('--validate', 'after pruning, compare the pruned model with the original on onnxruntime (on --data\'s test split, or random inputs)')
    .option('--finetune', 'fine-tune the pruned model on --data before writing it (the whole method in one command)');
  addFinetuneOptions(cmd, { dataRequired: false })
    .action(async (input: string, opts: PruneCliOptions) => {
      if (opts.finetune && !opts.data) fail('--finetune needs --data: the labelled samples to fine-tune on');
      // Everything the run reads and writes is checked before any work: a run never fails after writing.
      checkSources([dataSource(opts), labelsSource(opts), opts.layerRatios ? { path: opts.layerRatios, what: 'the --layer-ratios file' } : undefined]);
      const reads = [{ path: input, what: 'the input model' }, ...[dataSource(opts), labelsSource(opts)].filter((r) => r !== undefined)];
      const outputs = [
        { path: opts.output, what: 'the output model' },
        { path: sideFileOf(opts.output), what: 'the output\'s external data file' },
        opts.report ? { path: opts.report, what: 'the report' } : undefined,
      ];
      checkOutputs(outputs, reads);
      const model = loadModel(input);
      checkOutputs(outputs, [...reads, ...model.sourceFiles.map((path) => ({ path, what: 'an external data file of the input' }))]);
      const ratios = opts.layerRatios ? loadLayerRatios(opts.layerRatios) : undefined;
      const bar = progressBar(opts.quiet);
      let report: PruneReport;
      try {
        report = await centralityPrune(model, {
          ratio: ratios?.defaultRatio ?? opts.ratio, threshold: opts.threshold, method: opts.method, scope: opts.scope,
          weighted: !opts.unweighted, keep: opts.keep, coupling: opts.coupling, seed: opts.seed,
          ...(opts.layers ? { layers: opts.layers } : {}), ...(opts.exclude ? { exclude: opts.exclude } : {}),
          ...(ratios ? { layerRatios: ratios.ratios } : {}),
          global: !!opts.global, roundTo: opts.roundTo, minChannels: opts.minChannels,
          ...(opts.targetMacs !== undefined ? { targetMacs: opts.targetMacs } : {}),
          ...(opts.targetParams !== undefined ? { targetParams: opts.targetParams } : {}),
          onProgress: bar.update,
        });
      } finally {
        bar.stop();
      }
      const finetuned = opts.finetune && opts.data ? summary(await runFinetune(model, { ...opts, data: opts.data }, !opts.quiet)) : undefined;
      // Validated from memory, before anything is written: a failure leaves no output behind.
      const validation = opts.validate ? await validatePruned(input, model, opts) : undefined;
      const files = new StagedFiles();
      try {
        stageModel(model, opts.output, { externalData: opts.externalData ? true : 'auto' }, files);
        if (opts.report) {
          const json = JSON.stringify({ input, output: opts.output, ...report, ...(finetuned ? { finetune: finetuned } : {}), ...(validation ? { validation } : {}) }, null, 2) + '\n';
          files.write(opts.report, json);
        }
        files.commit();
      } finally {
        files.abort();
      }
      if (!opts.quiet) {
        process.stdout.write(summarize(report) + '\n');
        if (validation) process.stdout.write(`\n${formatValidationReport(validation)}\n`);
      }
      const t = report.target;
      if (t && !t.met) process.stderr.write(`onnx-cprune: warning: --target-${t.measure} ${t.fraction} is out of reach: pruning ${(100 * report.ratio).toFixed(0)}% of every group in scope leaves ${(100 * t.reached).toFixed(1)}% of the ${t.measure}\n`);
    });
}

function dataSource(opts: PruneCliOptions): RunFile | undefined {
  return opts.data ? { path: opts.data, what: 'the --data source' } : undefined;
}

function labelsSource(opts: PruneCliOptions): RunFile | undefined {
  return opts.labels ? { path: opts.labels, what: 'the --labels file' } : undefined;
}

async function validatePruned(input: string, pruned: Model, opts: PruneCliOptions): Promise<ValidationReport> {
  const report = await validateModels(input, pruned, {
    ep: opts.ep, seed: opts.seed, names: { pruned: opts.output },
    ...(opts.data ? { data: opts.data, dataOptions: { ...toDatasetOptions(opts, opts.seed), split: 'test' as const } } : {}),
  });
  if (report.notice) process.stderr.write(`onnx-cprune: ${report.notice}\n`);
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
    g.method ?? '', g.method !== 'eigenvector' ? '' : g.converged === false ? 'no' : String(g.iterations ?? ''), shorten(g.note ?? '', 60),
  ]);
  const skipped = r.groups.length - pruned.length;
  const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
  return [
    rows.length ? formatTable(['group (producers)', 'kind', 'kept', 'params', 'MACs', 'method', 'iters', 'note'], rows) : 'no group was pruned',
    '',
    `params ${humanCount(r.params.before)} → ${humanCount(r.params.after)} (${pct(r.params.after, r.params.before)}),  MACs ${humanCount(r.macs.before)} → ${humanCount(r.macs.after)} (${pct(r.macs.after, r.macs.before)})`,
    `${pruned.length} group(s) pruned, ${skipped} left alone (see --report or \`onnx-cprune inspect --groups\` for why)`,
  ].join('\n');
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
