import { statSync } from 'node:fs';
import { fail } from '../ir/errors.js';
import { loadModel } from '../ir/load.js';
import type { Model } from '../ir/model.js';
import { AccuracyCounter, OutputComparer, type OutputComparison } from './compare.js';
import { loadDataset } from './data/loadDataset.js';
import type { Dataset, DatasetOptions } from './data/types.js';
import { concreteDims, dataOptionsForInput, floatTensor, inputSpecs, randomBatch, sampleDims, type InputSpec } from './inputs.js';
import { measureLatency, type LatencyPoint } from './latency.js';
import type { ort } from './ort.js';
import { openSession, type EpChoice, type ExecutionProvider } from './session.js';

export interface ValidateOptions {
  ep?: EpChoice;
  /** Labelled or unlabelled samples: a path for loadDataset, or a loaded Dataset. Without it, random inputs. */
  data?: string | Dataset;
  /** Preprocessing for `data`; defaults come from the model's input shape, and the 'test' split. */
  dataOptions?: DatasetOptions;
  /** Number of random samples when there is no data (default 32). */
  random?: number;
  /** The larger batch size for the comparison pass and the throughput figure (default 32). */
  batch?: number;
  /** Timed runs per model and batch size; the median is reported (default 10). */
  runs?: number;
  /** Untimed runs first (default 3). */
  warmup?: number;
  /** Seed for random inputs and data sampling (default 0). */
  seed?: number;
  /** Skip the latency measurement (default: measure). */
  latency?: boolean;
  /** onnxruntime intra-op threads for both models (default: its own, one per core). */
  threads?: number;
  /** What to call models given in memory in the report (default: their paths, else 'original' / 'pruned'). */
  names?: { original?: string; pruned?: string };
}

/** Most random samples a validation draws: beyond this the comparison says nothing new and only takes hours. */
export const MAX_RANDOM_SAMPLES = 100_000;
/** Most input elements one batch may take (1 GiB of float32): larger batches cannot be allocated reliably. */
const MAX_BATCH_ELEMENTS = 2 ** 28;

export interface ModelFigures {
  params: number;
  macs: number;
}

export interface ValidationReport {
  original: string;
  pruned: string;
  /** Where both models ran. */
  ep: ExecutionProvider;
  /** Why `auto` ran on the CPU, when it did. */
  notice?: string;
  inputs: InputSpec[];
  data: { source: string; samples: number; sampleShape: number[]; labelled: boolean };
  outputs: OutputComparison[];
  accuracy?: { output: string; original: number; pruned: number; samples: number };
  latency: LatencyPoint[];
  /** Parameter and MAC counts (MACs per sample when the batch dim is symbolic). */
  stats?: { original: ModelFigures; pruned: ModelFigures; paramsRatio: number; macsRatio: number };
  /** Things the reader should know: a fixed batch size, figures that could not be computed. */
  notes: string[];
}

/** A prepared source of input batches, real or random. */
interface Feeder {
  samples: number;
  sampleShape: number[];
  labels?: Int32Array;
  numClasses?: number;
  /** Feeds for samples [start, start + rows), padded (cycling samples) to `size` rows. */
  batch(start: number, rows: number, size: number): Record<string, ort.Tensor>;
}

/** Runs both models on the same inputs and reports how far the pruned one strays, how accurate and how fast both are. */
export async function validateModels(original: Model | string, pruned: Model | string, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const batch = opts.batch ?? 32;
  const notes: string[] = [];
  // Read with our loader first: a model that lies about itself is refused here, naming what is wrong.
  const models = [original, pruned].map((m) => (typeof m === 'string' ? loadModel(m) : m)) as [Model, Model];
  const sessionOptions = { ...optimizationFor(models, notes), ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}) };
  const a = await openSession(original, { ep: opts.ep, sessionOptions });
  let b: Awaited<ReturnType<typeof openSession>> | undefined;
  try {
    b = await openSession(pruned, { ep: a.ep, sessionOptions });
    const specs = inputSpecs(a.session);
    checkSameInputs(specs, b.session);
    const fixed = specs.find((s) => s.fixedBatch !== undefined)?.fixedBatch;
    if (fixed !== undefined) notes.push(`the model has a fixed batch size of ${fixed}: every run uses batches of ${fixed}`);
    const runBatch = fixed ?? batch;
    const feeder = await makeFeeder(specs, opts, Math.max(runBatch, 1));
    if (specs.length === 0) notes.push('the model takes no inputs (every graph input has an initializer as its default): one run is compared');

    const { outputs, accuracy } = await compareOutputs(a.session, b.session, feeder, runBatch, fixed !== undefined);
    if (feeder.labels && !accuracy) notes.push('labelled data, but no [batch, classes] output covering every label: accuracy not computed');

    const latency: LatencyPoint[] = [];
    if (opts.latency !== false) {
      for (const size of fixed !== undefined ? [fixed] : [...new Set([1, batch])]) {
        latency.push(await measureLatency(a.session, b.session, feeder.batch(0, Math.min(size, feeder.samples), size), size, opts.runs ?? 10, opts.warmup ?? 3));
      }
    }
    const report: ValidationReport = {
      original: label(original, opts.names?.original ?? 'original'),
      pruned: label(pruned, opts.names?.pruned ?? 'pruned'),
      ep: a.ep,
      inputs: specs,
      data: { source: dataLabel(opts), samples: feeder.samples, sampleShape: feeder.sampleShape, labelled: !!feeder.labels },
      outputs,
      latency,
      notes,
    };
    if (a.notice) report.notice = a.notice;
    if (accuracy) report.accuracy = accuracy;
    const stats = await figures(models, notes);
    if (stats) report.stats = stats;
    return report;
  } finally {
    await a.session.release();
    await b?.session.release();
  }
}

/** Runs every sample through both models in batches of `size`; a fixed-batch model gets its last batch padded. */
async function compareOutputs(a: ort.InferenceSession, b: ort.InferenceSession, feeder: Feeder, size: number, pad: boolean): Promise<Pick<ValidationReport, 'outputs' | 'accuracy'>> {
  const names = a.outputNames;
  const prunedNames = names.map((n, i) => (b.outputNames.includes(n) ? n : b.outputNames.length === names.length ? b.outputNames[i]! : fail(`the pruned model has no output '${n}'`)));
  const comparers = names.map((n) => new OutputComparer(n));
  let classifier: number | undefined;
  const acc = [new AccuracyCounter(), new AccuracyCounter()];
  for (let start = 0; start < feeder.samples; start += size) {
    const rows = Math.min(size, feeder.samples - start);
    const feeds = feeder.batch(start, rows, pad ? size : rows);
    const ya = await run(a, feeds, 'original');
    const yb = await run(b, feeds, 'pruned');
    names.forEach((n, i) => comparers[i]!.add(ya[n]!, yb[prunedNames[i]!]!, rows));
    if (start === 0 && feeder.labels) classifier = classifierOutput(names.map((n) => ya[n]!), feeder.numClasses ?? 0);
    if (classifier !== undefined) {
      const labels = feeder.labels!.subarray(start, start + rows);
      acc[0]!.add(ya[names[classifier]!]!, labels, rows);
      acc[1]!.add(yb[prunedNames[classifier]!]!, labels, rows);
    }
  }
  const outputs = comparers.map((c) => c.result());
  if (classifier === undefined) return { outputs };
  return { outputs, accuracy: { output: names[classifier]!, original: acc[0]!.accuracy, pruned: acc[1]!.accuracy, samples: acc[0]!.total } };
}

/** The first [batch, classes] output with room for every label. */
export function classifierOutput(outputs: ort.Tensor[], numClasses: number): number | undefined {
  const i = outputs.findIndex((t) => t.dims.length === 2 && t.dims[1]! > 1 && t.dims[1]! >= numClasses);
  return i < 0 ? undefined : i;
}

async function run(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>, which: string): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return await s.run(feeds);
  } catch (e) {
    fail(`onnxruntime failed to run the ${which} model: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function makeFeeder(specs: InputSpec[], opts: ValidateOptions, batch: number): Promise<Feeder> {
  const seed = opts.seed ?? 0;
  if (opts.data === undefined) return randomFeeder(specs, opts.random ?? 32, seed, batch);
  if (opts.random !== undefined) fail('give either data or a number of random samples, not both');
  if (specs.length !== 1) fail(`data files feed models with one input; this one has ${specs.length} (${specs.map((s) => s.name).join(', ')}): use random inputs`);
  const spec = specs[0]!;
  const ds = typeof opts.data === 'string'
    ? await loadDataset(opts.data, { split: 'test', seed: opts.dataOptions?.limit || opts.dataOptions?.perClass ? seed : undefined, ...dataOptionsForInput(spec), ...opts.dataOptions })
    : opts.data;
  const feeder = dataFeeder(spec, ds);
  checkBatchSize(spec, feeder.sampleShape, batch);
  return feeder;
}

function dataFeeder(spec: InputSpec, ds: Dataset): Feeder {
  const samples = ds.shape[0]!;
  const dims = sampleDims(spec, ds.shape.slice(1));
  const per = dims.reduce((x, y) => x * y, 1);
  const feeder: Feeder = {
    samples,
    sampleShape: dims,
    batch(start, rows, size) {
      const x = new Float32Array(size * per);
      for (let r = 0; r < size; r++) {
        const i = start + (r % rows);
        x.set(ds.x.subarray(i * per, (i + 1) * per), r * per);
      }
      return { [spec.name]: floatTensor(spec, x, [size, ...dims]) };
    },
  };
  if (ds.labels) feeder.labels = ds.labels;
  if (ds.numClasses !== undefined) feeder.numClasses = ds.numClasses;
  return feeder;
}

/**
 * Random samples for every input; sample i is the same whatever batch it lands in. A model whose every input has an
 * initializer (its default, allowed since IR 4, so onnxruntime does not ask for it) takes no feeds: it has one run.
 */
function randomFeeder(specs: InputSpec[], samples: number, seed: number, batch: number): Feeder {
  if (!(Number.isInteger(samples) && samples > 0 && samples <= MAX_RANDOM_SAMPLES))
    fail(`the number of random samples must be an integer in [1, ${MAX_RANDOM_SAMPLES}], got ${samples}`);
  const one = specs.map((s) => concreteDims(s, 1));
  for (const [k, spec] of specs.entries()) checkBatchSize(spec, one[k]!.slice(1), batch);
  return {
    samples: specs.length === 0 ? 1 : samples,
    sampleShape: one[0]?.slice(1) ?? [],
    batch(start, rows, size) {
      const ids = Array.from({ length: size }, (_, r) => start + (r % rows));
      return Object.fromEntries(specs.map((spec, k) => [spec.name, randomBatch(spec, one[k]!, ids, seed)]));
    },
  };
}

/** Refuses a batch too large to allocate before trying to (an input declared [1, 3, 100000, 100000], --batch 4096). */
function checkBatchSize(spec: InputSpec, sample: readonly number[], batch: number): void {
  const elements = batch * sample.reduce((a, b) => a * b, 1);
  if (elements > MAX_BATCH_ELEMENTS)
    fail(`a batch of ${batch} samples of input '${spec.name}' [${sample.join(', ')}] would hold ${elements} values, over the ${MAX_BATCH_ELEMENTS} one batch may take: lower --batch`);
}

function checkSameInputs(specs: InputSpec[], b: ort.InferenceSession): void {
  const names = specs.map((s) => s.name).sort().join(', ');
  const other = [...b.inputNames].sort().join(', ');
  if (names !== other) fail(`the models take different inputs: original (${names}), pruned (${other})`);
}

/** More consumers of one value than this and onnxruntime's graph optimizations take quadratic time (minutes). */
const MAX_OPTIMIZED_FANOUT = 512;

/**
 * onnxruntime's optimizers slow down quadratically on a value feeding thousands of nodes (5 000 parallel branches
 * take over two minutes to open at the default level, two seconds unoptimized). Such models are run unoptimized,
 * and the report says so, since their latency is then not what a deployment would see.
 */
function optimizationFor(models: readonly Model[], notes: string[]): { graphOptimizationLevel: 'disabled' } | undefined {
  for (const m of models) {
    for (const v of m.graph.allValues()) {
      const uses = v.uses().length;
      if (uses > MAX_OPTIMIZED_FANOUT) {
        notes.push(`'${v.name}' feeds ${uses} nodes: onnxruntime's graph optimizations were turned off for both models (they take minutes on such fan-out), so latency is unoptimized`);
        return { graphOptimizationLevel: 'disabled' };
      }
    }
  }
  return undefined;
}

async function figures([original, pruned]: readonly [Model, Model], notes: string[]): Promise<ValidationReport['stats']> {
  try {
    // Loaded on demand: the stats need shape inference, which a failure here must not keep validation from running.
    const { modelStats } = await import('../ir/stats.js');
    const sa = modelStats(original);
    const sb = modelStats(pruned);
    if (sa.macsUnknown.length + sb.macsUnknown.length > 0) notes.push(`MACs leave out ${sa.macsUnknown.length + sb.macsUnknown.length} node(s) whose shapes are unknown`);
    return {
      original: { params: sa.params, macs: sa.macs },
      pruned: { params: sb.params, macs: sb.macs },
      paramsRatio: sb.params / sa.params,
      macsRatio: sb.macs / sa.macs,
    };
  } catch (e) {
    notes.push(`params and MACs not computed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

function label(m: Model | string, fallback: string): string {
  return typeof m === 'string' ? m : fallback;
}

function dataLabel(opts: ValidateOptions): string {
  if (opts.data === undefined) return `random (seed ${opts.seed ?? 0})`;
  if (typeof opts.data !== 'string') return 'dataset';
  const split = opts.dataOptions?.split ?? 'test';
  return isDirectory(opts.data) ? `${opts.data} (${split} split)` : opts.data;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
