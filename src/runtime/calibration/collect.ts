import { fail } from '../../ir/errors.js';
import { halfToFloat } from '../../ir/dtype.js';
import { decodeModel } from '../../ir/load.js';
import type { Model } from '../../ir/model.js';
import { encodeModel } from '../../ir/save.js';
import type { CalibrationStats } from '../../passes/calibrationStats.js';
import { groupConsumers } from '../../passes/consumers.js';
import type { ChannelGroup } from '../../passes/dependency/groups.js';
import { inputSpecs } from '../inputs.js';
import type { ort } from '../ort.js';
import { openSession, type EpChoice, type ExecutionProvider } from '../session.js';
import { GroupAccumulator, type SiteSpec } from './accumulator.js';
import { loadSamples, type SampleOptions } from './samples.js';

export interface CalibrationOptions extends Omit<SampleOptions, 'limit'> {
  ep?: EpChoice;
  /** Samples to run (default 128): a seeded choice (`seed`) when the source has more. */
  samples?: number;
  /** Also accumulate each group's activation Gram (what activation-eigenvector needs). */
  gram?: boolean;
  /** Bytes of exposed activations per batch the batch size is chosen for (default 256 MiB). */
  batchBytes?: number;
}

export interface CalibrationResult {
  /** Per group id. */
  readonly stats: Map<number, CalibrationStats>;
  readonly samples: number;
  readonly source: string;
  readonly ep: ExecutionProvider;
  readonly notice?: string;
  readonly seconds: number;
}

export const DEFAULT_CALIBRATION_SAMPLES = 128;
const DEFAULT_BATCH_BYTES = 256 << 20;
const MAX_BATCH = 64;

/**
 * Runs the model once over the calibration samples on onnxruntime with every site of `groups` (the tensors their
 * consumers read, `consumers.ts`) exposed as an extra output of a scratch copy (the model itself is not touched), and
 * streams each group's statistics (`GroupAccumulator`). The first batch is one sample; the others are as large as
 * `batchBytes` of exposed activations allows.
 */
export async function collectCalibration(model: Model, groups: readonly ChannelGroup[], source: string, opts: CalibrationOptions = {}): Promise<CalibrationResult> {
  const t0 = performance.now();
  const plans = groups.map((g) => ({ group: g, sites: sitesOf(model, g) }));
  const exposed = [...new Set(plans.flatMap((p) => p.sites.map((s) => s.value)))];
  const scratch = decodeModel(encodeModel(model), { baseDir: model.baseDir });
  for (const name of exposed) {
    const v = scratch.graph.find(name);
    const original = model.graph.find(name);
    if (!v || !original) throw new Error(`internal: calibration site '${name}' is not in the model copy`);
    // Graph outputs need a type; the analysis's shape inference knows it.
    v.elemType = original.elemType;
    v.shape = original.shape;
    if (!scratch.graph.hasOutput(v)) scratch.graph.outputs = [...scratch.graph.outputs, v];
  }
  const { session, ep, notice } = await openSession(scratch, { ...(opts.ep ? { ep: opts.ep } : {}) });
  try {
    const batches = await loadSamples(model, inputSpecs(session), source, {
      ...(opts.dataOptions ? { dataOptions: opts.dataOptions } : {}), ...(opts.window !== undefined ? { window: opts.window } : {}),
      limit: opts.samples ?? DEFAULT_CALIBRATION_SAMPLES, seed: opts.seed ?? 0,
    });
    const accumulators = plans.map((p) => new GroupAccumulator(p.group.channels, p.sites, { gram: !!opts.gram }));
    // A fixed-batch model runs its own batch size every time (shorter batches padded, the padding's rows not read).
    let size = batches.fixedBatch ?? 1;
    // Nothing to measure (no group in scope, or none read by a weight layer): the source was read and checked, the
    // model is not run, and no group gets statistics.
    const result = (stats: Map<number, CalibrationStats>): CalibrationResult => ({
      stats, samples: batches.count, source: batches.description, ep, ...(notice ? { notice } : {}), seconds: (performance.now() - t0) / 1000,
    });
    if (!exposed.length) return result(new Map());
    for (let start = 0; start < batches.count; ) {
      const rows = Math.min(size, batches.count - start);
      const out = await run(session, batches.feeds(start, rows), exposed);
      for (const [g, plan] of plans.entries()) {
        const acc = accumulators[g]!;
        acc.beginBatch(rows);
        for (const [i, site] of plan.sites.entries()) {
          const t = out[site.value]!;
          const values = floats(t);
          await acc.add(i, values.subarray(0, (values.length / t.dims[0]!) * rows), [rows, ...t.dims.slice(1)]);
        }
      }
      if (start === 0 && batches.fixedBatch === undefined) {
        const bytes = exposed.reduce((s, name) => s + out[name]!.data.length * 4, 0);
        size = Math.max(1, Math.min(MAX_BATCH, Math.floor((opts.batchBytes ?? DEFAULT_BATCH_BYTES) / Math.max(1, bytes))));
      }
      start += rows;
    }
    return result(new Map(plans.map((p, i) => [p.group.id, accumulators[i]!.finish()])));
  } finally {
    await session.release();
  }
}

/**
 * The distinct tensors a group's consumers read (one site per tensor and axis). Channels-first maps ([N, C, …], read
 * by a Conv) also keep their per-position sums over the samples, for a bias correction that follows the kernel taps.
 */
function sitesOf(model: Model, group: ChannelGroup): SiteSpec[] {
  const sites = new Map<string, SiteSpec>();
  for (const c of groupConsumers(model, group)) {
    const key = `${c.input.name}\u0000${c.axis}`;
    const channelsFirstMap = c.axis === 1 && (c.input.shape?.length ?? 0) >= 3;
    if (!sites.has(key)) sites.set(key, { value: c.input.name, axis: c.axis, unitOf: c.unitOf, ...(channelsFirstMap ? { keepMap: true } : {}) });
  }
  return [...sites.values()];
}

async function run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return await session.run(feeds, fetches);
  } catch (e) {
    fail(`onnxruntime failed to run the model on the calibration data: ${(e as Error).message.split('\n')[0]}`);
  }
}

function floats(t: ort.Tensor): Float32Array | Float64Array {
  switch (t.type) {
    case 'float32': case 'float64': return t.data as Float32Array | Float64Array;
    case 'float16': return Float32Array.from(t.data as Uint16Array, halfToFloat);
    default: fail(`calibration: an activation of type ${t.type} is not a float tensor`);
  }
}
