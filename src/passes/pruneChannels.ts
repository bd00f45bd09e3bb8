import { fail } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import { inferShapes } from '../ir/shapeInference.js';
import { analysis, forgetAnalysis, type Analysis } from './dependency/analyze.js';
import { dropIfDead, planConstantSlices, type OperandSlice } from './dependency/constantRewrite.js';
import { planInputEdits } from './dependency/inputRewrite.js';
import type { Labels } from './dependency/state.js';
import type { Dim, Value } from '../ir/value.js';

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
  const keepClass = keptClasses(a, keep);
  const kept = keptIndices(keepClass);

  const slices = new Map<string, OperandSlice>();
  for (const e of a.state.edits) {
    if (e.kind !== 'slice') continue;
    const key = `${nodeKey(e.node)}#${e.input}`;
    let s = slices.get(key);
    if (!s) slices.set(key, (s = { node: e.node, input: e.input, keep: new Map() }));
    const k = kept(e.labels);
    const had = s.keep.get(e.axis);
    if (had && !sameIndices(had, k)) throw new Error(`internal: ${e.node.label} input ${e.input} axis ${e.axis} sliced two ways`);
    s.keep.set(e.axis, k);
  }
  const graph = model.graph;
  const constantPlans = planConstantSlices(graph, [...slices.values()]);
  const newShapes = new Map<Value, Dim[]>();
  for (const [v, axes] of a.state.tracked) {
    for (const [axis, labels] of axes) {
      const n = kept(labels).length;
      if (n === 0) fail(`pruning would leave '${v.name}' with no channels on axis ${axis}: keep at least one unit of each set in the group's nonEmpty list`);
      if (!v.shape || axis >= v.shape.length) continue;
      const shape = newShapes.get(v) ?? [...v.shape];
      shape[axis] = n;
      newShapes.set(v, shape);
    }
  }
  const inputPlans = planInputEdits(graph, model.opsetVersion, a.state.edits, kept, (v) => newShapes.get(v) ?? v.shape);

  // Nothing has been modified up to here.
  for (const p of constantPlans) p.apply();
  for (const [v, shape] of newShapes) v.shape = shape;
  const replaced = inputPlans.map((p) => p());
  for (const old of replaced.flat()) dropIfDead(graph, old);
  forgetAnalysis(model);
  inferShapes(model, { overwrite: true });
  for (const [v, shape] of newShapes) {
    // Shape inference could not recompute it (an op it has no rule for): keep ours rather than a stale value_info.
    if (!v.shape) v.shape = shape;
    else if (v.shape.length === shape.length && v.shape.some((d, k) => typeof d === 'number' && typeof shape[k] === 'number' && d !== shape[k]))
      throw new Error(`internal: '${v.name}' was pruned to [${shape}] but shape inference finds [${v.shape}]`);
  }
  return model;
}

const ids = new WeakMap<Node, number>();
let nextId = 0;
function nodeKey(n: Node): number {
  let k = ids.get(n);
  if (k === undefined) ids.set(n, (k = nextId++));
  return k;
}

function sameIndices(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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

/** Positions of `labels` whose class survives (memoized per label array). */
function keptIndices(keepClass: Uint8Array): (labels: Labels) => Int32Array {
  const memo = new Map<Labels, Int32Array>();
  return (labels) => {
    let k = memo.get(labels);
    if (k) return k;
    let n = 0;
    for (const c of labels) n += keepClass[c]!;
    k = new Int32Array(n);
    let at = 0;
    for (let i = 0; i < labels.length; i++) if (keepClass[labels[i]!]) k[at++] = i;
    memo.set(labels, k);
    return k;
  };
}
