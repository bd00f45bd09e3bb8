import { fail } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import { inferShapes } from '../ir/shapeInference.js';
import { analysis, forgetAnalysis, type Analysis } from './dependency/analyze.js';
import { disagree } from './dependency/verify.js';
import { planRewrite } from './dependency/rewrite.js';

/** Units to keep per group id: a Map or a plain object `{ [groupId]: sortedIndices }`. */
export type KeepSpec = ReadonlyMap<number, readonly number[]> | Readonly<Record<number, readonly number[]>>;

/**
 * Removes channels from the model IN PLACE (and returns it): for each group id in `keep`, every unit not listed is
 * removed everywhere its channels flow (producer rows and biases, norm parameters, per-channel constants, consumer
 * input rows, `group` of depthwise convs, Reshape / Split / Slice / Expand vectors, value shapes). Groups not listed
 * are untouched. Indices refer to the groups of `analyze(model)` on this same, unmodified model. Everything is
 * checked and computed before the model is touched: bad input throws a UserError and leaves the model as it was.
 */
export function pruneChannels(model: Model, keep: KeepSpec): Model {
  const a = analysis(model);
  const graph = model.graph;
  const rewrite = planRewrite(a.state, keptClasses(a, keep), { graph, opset: model.opsetVersion, node: (n) => n, value: (v) => v });
  // Nothing has been modified up to here.
  rewrite.apply();
  forgetAnalysis(model);
  const { problems } = inferShapes(model, { overwrite: true });
  // The safety net: the analysis already declined every group whose trial rewrite inference did not confirm.
  if (problems.length) throw new Error(`internal: the pruned model is inconsistent: ${problems[0]!.message}`);
  for (const [v, shape] of rewrite.newShapes) {
    // Shape inference could not recompute it (an op it has no rule for): keep ours rather than a stale value_info.
    if (!v.shape) v.shape = shape;
    else if (disagree(shape, v.shape)) throw new Error(`internal: '${v.name}' was pruned to [${shape}] but shape inference finds [${v.shape}]`);
    // Dims inference cannot name (a cache's total_sequence_length = past + sequence) keep the model's names.
    else if (v.shape.some((d) => d === null)) v.shape = v.shape.map((d, i) => d ?? shape[i]!);
  }
  return model;
}

/** Which classes survive; validates the keep lists. */
function keptClasses(a: Analysis, keep: KeepSpec): Uint8Array {
  const keepClass = new Uint8Array(a.classCount).fill(1);
  const entries: [number, readonly number[]][] = keep instanceof Map
    ? [...keep.entries()]
    : Object.entries(keep).map(([k, v]) => [Number(k), v as readonly number[]]);
  for (const [id, units] of entries) {
    const g = Number.isInteger(id) ? a.groups[id] : undefined;
    if (!g) fail(`no channel group ${id} (the model has ${a.groups.length})`);
    if (!g.prunable) fail(`channel group ${id} cannot be pruned: ${g.reason}`);
    if (!Array.isArray(units) && !ArrayBuffer.isView(units)) fail(`keep list of group ${id} is not an array`);
    if (units.length === 0) fail(`channel group ${id} would lose all of its ${g.channels} channels`);
    const keepUnit = new Uint8Array(g.channels);
    let prev = -1;
    for (const u of units) {
      if (!Number.isInteger(u) || u < 0 || u >= g.channels) fail(`channel group ${id}: index ${u} is out of range [0, ${g.channels})`);
      if (u <= prev) fail(`channel group ${id}: keep indices must be sorted and unique (${prev} then ${u})`);
      prev = u;
      keepUnit[u] = 1;
    }
    g.unitClasses.forEach((c, u) => { keepClass[c] = keepUnit[u]!; });
  }
  return keepClass;
}
