import { fail } from '../ir/errors.js';
import type { LatencyTargetReport } from '../passes/policy/latencyTarget.js';
import type { CalibrationReport, DecoderReport, GroupReport, PruneReport, ReportedOptions, SizeChange, TargetReport } from '../passes/pruneReport.js';
import { SCORING_METHODS, type GraphSummary } from '../passes/scoring/index.js';
import type { LatencyComparison } from '../runtime/latency.js';
import type { ValidationReport } from '../runtime/validate.js';
import type { FinetuneResult } from '../train/finetune.js';
import { arrayOf, boolean, integer, nullable, number, object, oneOf, optional, ShapeError, string, type Checker } from './check.js';

/**
 * The document `prune --report` saves and `onnx-cprune report` reads: the pass's PruneReport plus what the CLI adds
 * (paths, fine-tuning, validation, calibration). Bump REPORT_SCHEMA_VERSION when a reader of the old version would
 * misread the new one (a field removed, renamed or changed in meaning); added optional fields keep the version.
 */
export const REPORT_SCHEMA_VERSION = 1;

export type { CalibrationReport } from '../passes/pruneReport.js';
export type SavedGroupReport = GroupReport;

/** `finetune --json` and the report's `finetune`: the fine-tuning result without the model. */
export type FinetuneSummary = Omit<FinetuneResult, 'model'>;

/** How a --target-latency run was timed: the provider, batch size, intra-op threads and clock of the lookup table. */
export interface LatencyTiming {
  ep: string;
  batch: number;
  /** onnxruntime intra-op threads; 0: its default (one per core). */
  threads: number;
  /** 'cpu': CPU time of single-threaded runs (steady on a loaded machine); 'wall': wall time. */
  clock: 'cpu' | 'wall';
}

export interface SavedReport extends Omit<PruneReport, 'groups' | 'latencyTarget'> {
  schemaVersion: number;
  /** The input and output model paths as given on the command line. */
  input: string;
  output: string;
  groups: SavedGroupReport[];
  latencyTarget?: LatencyTargetReport & LatencyTiming;
  /** Measured latency before and after (from --validate, or timed after --target-latency). */
  latency?: LatencyComparison;
  finetune?: FinetuneSummary;
  validation?: ValidationReport;
  /** The calibration run (`prune --calib`): what was read, how many samples, where and how long. */
  calibration?: CalibrationRun;
}

export interface CalibrationRun {
  source: string;
  samples: number;
  ep: 'cuda' | 'cpu';
  seconds: number;
}

/** The saved document for one run. */
export function savedReport(run: {
  input: string; output: string; report: PruneReport; finetune?: FinetuneSummary; validation?: ValidationReport;
  latency?: LatencyComparison; latencyTiming?: LatencyTiming; calibration?: CalibrationRun;
}): SavedReport {
  const { input, output, report, finetune, validation, latency, latencyTiming, calibration } = run;
  const { latencyTarget, ...rest } = report;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION, input, output, ...rest,
    ...(latencyTarget && latencyTiming ? { latencyTarget: { ...latencyTarget, ...latencyTiming } } : {}),
    ...(latency ? { latency } : {}), ...(finetune ? { finetune } : {}), ...(validation ? { validation } : {}),
    ...(calibration ? { calibration } : {}),
  };
}

/**
 * Checks that parsed JSON is a saved report this version can read. Anything else is the user's to fix: one line
 * naming `source` and the first field that is wrong (exit 2).
 */
export function parseSavedReport(json: unknown, source: string): SavedReport {
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > REPORT_SCHEMA_VERSION) {
    fail(`${source} was written by a newer onnx-cprune (report schema version ${version}; this version reads ${REPORT_SCHEMA_VERSION})`);
  }
  try {
    return savedReportCheck(json, 'report');
  } catch (e) {
    if (e instanceof ShapeError) fail(`${source} is not an onnx-cprune report: ${e.message}`);
    throw e;
  }
}

const before = object<{ before: number; after: number }>({ before: number, after: number });
const strings = arrayOf(string);
const numbers = arrayOf(number);
const integers = arrayOf(integer);

const graphSummary = object<GraphSummary>({
  degrees: integers,
  edges: optional(object<NonNullable<GraphSummary['edges']>>({ pairs: integers, weights: numbers })),
});

const group = object<SavedGroupReport>({
  id: integer, producers: strings, kind: oneOf('dense', 'conv'), channels: integer, kept: integers, removed: integers,
  method: optional(string), scores: optional(numbers), iterations: optional(integer), converged: optional(boolean),
  components: optional(integer), edges: optional(integer), density: optional(number), graphs: optional(arrayOf(graphSummary)),
  note: optional(string),
  layer: optional(object<NonNullable<GroupReport['layer']>>({ params: before, macs: before })),
  declined: optional(string),
  residual: optional(string),
  removedRatio: optional(number),
  calibration: optional(object<CalibrationReport>({ activeFraction: numbers, samples: optional(integer) })),
  compensation: optional(object<NonNullable<GroupReport['compensation']>>({ consumers: integer, note: optional(string) })),
});

const options = object<ReportedOptions>({
  weighted: boolean, keep: oneOf('central', 'peripheral'), coupling: oneOf('concat', 'average'), seed: integer, global: boolean,
  pruneResidual: optional(boolean), roundTo: integer, minChannels: integer, layers: optional(strings), exclude: optional(strings),
  layerRatios: optional(arrayOf(object<{ pattern: string; ratio: number }>({ pattern: string, ratio: number }))),
  uniformHeads: optional(boolean),
  compensate: optional(boolean),
});

const dims = arrayOf((v, path) => (typeof v === 'string' || v === null ? v : integer(v, path)));
const sizeChange = optional(object<SizeChange>({ before: integer, after: integer }));
const decoder = object<DecoderReport>({
  uniformHeads: boolean,
  cache: arrayOf(object<DecoderReport['cache'][number]>({ layer: integer, key: optional(dims), value: optional(dims) })),
  sizes: object<DecoderReport['sizes']>({ numAttentionHeads: sizeChange, numKeyValueHeads: sizeChange, hiddenSize: sizeChange, intermediateSize: sizeChange }),
  notes: strings,
});

const target = object<TargetReport>({ measure: oneOf('macs', 'params'), fraction: number, reached: number, met: boolean });

type Validation = ValidationReport;
const timing = object<Validation['latency'][number]['original']>({ medianMs: number, throughput: number });
const latencyPoint = object<Validation['latency'][number]>({ batch: integer, original: timing, pruned: timing, ratio: number });
const validation = object<Validation>({
  original: string, pruned: string, ep: oneOf('cuda', 'cpu'), notice: optional(string),
  inputs: arrayOf(object<Validation['inputs'][number]>({
    name: string, type: string as Checker<Validation['inputs'][number]['type']>,
    dims: arrayOf((v, path) => (typeof v === 'string' ? v : integer(v, path))), fixedBatch: optional(integer),
  })),
  data: object<Validation['data']>({ source: string, samples: integer, sampleShape: integers, labelled: boolean }),
  outputs: arrayOf(object<Validation['outputs'][number]>({
    name: string, originalShape: integers, prunedShape: integers, shapesMatch: boolean, maxAbs: nullable(number), meanAbs: nullable(number),
    maxRel: nullable(number), meanRel: nullable(number), top1Agreement: optional(number),
  })),
  accuracy: optional(object<NonNullable<Validation['accuracy']>>({ output: string, original: number, pruned: number, samples: integer })),
  latency: arrayOf(latencyPoint),
  stats: optional(object<NonNullable<Validation['stats']>>({
    original: object({ params: number, macs: number }), pruned: object({ params: number, macs: number }), paramsRatio: number, macsRatio: number,
  })),
  notes: strings,
});

const finetune = object<FinetuneSummary>({
  history: arrayOf(object<FinetuneSummary['history'][number]>({
    epoch: integer, loss: number, accuracy: number, valLoss: optional(number), valAccuracy: optional(number), seconds: number,
  })),
  bestEpoch: integer,
  initial: object({ loss: number, accuracy: number }),
  trained: strings,
  mode: oneOf('head', 'dense', 'all'),
  backend: object({ name: string, detail: string }),
  features: optional(object<NonNullable<FinetuneSummary['features']>>({
    ep: oneOf('cuda', 'cpu'), notice: optional(string), seconds: number, samples: integer, shape: integers,
  })),
  samples: object({ train: integer, val: integer }),
});

const latencyTarget = object<NonNullable<SavedReport['latencyTarget']>>({
  fraction: number, predicted: number, measured: number, originalMs: number, prunedMs: number, met: boolean,
  attempts: arrayOf(object<LatencyTargetReport['attempts'][number]>({ goal: number, predicted: number, measured: number })),
  table: object<LatencyTargetReport['table']>({
    measured: integer, cached: integer, path: optional(string), subGraphs: integer, wholeModel: integer, pairs: integer,
  }),
  ep: string, batch: integer, threads: integer, clock: oneOf('cpu', 'wall'),
});

const savedReportCheck = object<SavedReport>({
  schemaVersion: oneOf(REPORT_SCHEMA_VERSION),
  input: string, output: string,
  method: oneOf(...SCORING_METHODS),
  ratio: number, threshold: number, scope: oneOf('dense', 'conv', 'all'),
  options, params: before, macs: before,
  timings: object<SavedReport['timings']>({ analyzeMs: number, scoreMs: number, rewriteMs: number }),
  groups: arrayOf(group),
  target: optional(target),
  outOfScope: optional(object<NonNullable<SavedReport['outOfScope']>>({ dense: integer, conv: integer })),
  residualKept: optional(integer),
  latencyTarget: optional(latencyTarget),
  rounding: optional(object<NonNullable<SavedReport['rounding']>>({ multiple: integer, dense: boolean, reason: string })),
  latency: optional(object<LatencyComparison>({ ep: string, threads: integer, points: arrayOf(latencyPoint) })),
  decoder: optional(decoder),
  finetune: optional(finetune),
  validation: optional(validation),
  calibration: optional(object<CalibrationRun>({ source: string, samples: integer, ep: oneOf('cuda', 'cpu'), seconds: number })),
});
