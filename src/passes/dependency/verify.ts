import { constantSource } from '../../ir/constants.js';
import { cloneGraph, dependencyOrder } from '../../ir/graph.js';
import { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { inferShapes, type ShapeProblem } from '../../ir/shapeInference.js';
import { MAX_FOLD } from '../../ir/shapes/context.js';
import type { Dim, Shape, Value } from '../../ir/value.js';
import { RewriteGap } from './gap.js';
import type { ChannelGroup } from './groups.js';
import { planRewrite } from './rewrite.js';
import { editLabels, type AnalysisState, type Labels } from './state.js';

/** Whether an inferred shape contradicts a predicted one: another rank, or another size where both are known. */
export function disagree(predicted: readonly Dim[], inferred: readonly Dim[]): boolean {
  return predicted.length !== inferred.length || predicted.some((d, k) => typeof d === 'number' && typeof inferred[k] === 'number' && d !== inferred[k]);
}

type Trial = { ok: true } | { ok: false; at: Node[]; reason: string };

/**
 * The prunable groups whose pruning the engine cannot show to be consistent, with why. A trial rewrite (every third
 * unit of each group removed, on a structural copy of the model, big weights sliced as dims only) is checked by
 * shape inference: every node output must get the shape the engine predicts (the pruned shape of a tracked value,
 * the unpruned one of any other). Where inference disagrees, or an edit cannot be carried out, the groups touching
 * the first node that goes wrong are declined and the trial is repeated; a disagreement no node explains is narrowed
 * down by halving the set of groups. Nothing of the model is modified.
 *
 * "The unpruned shape" is the model's own until a trial fails; from then on it is what inference finds on the
 * unpruned copy, so that a value_info inference disagrees with anyway is not blamed on a group (for tracked values
 * the prediction stays the engine's: a group whose prediction inference will not confirm is declined).
 */
export function unprovenGroups(model: Model, st: AnalysisState, groups: readonly ChannelGroup[], classCount: number, classGroup: Int32Array): Map<number, string> {
  const declined = new Map<number, string>();
  const labelsAt = labelsByNode(st);
  const groupsAt = (nodes: readonly Node[]): Set<number> => {
    const out = new Set<number>();
    for (const n of nodes) for (const l of labelsAt(n)) for (const c of l) if (classGroup[c]! >= 0) out.add(classGroup[c]!);
    return out;
  };
  let unpruned: Unpruned | undefined;
  const trial = (ids: readonly number[]): Trial => trialRewrite(model, st, trialKeep(groups, ids, classCount), unpruned);

  let candidates = groups.filter((g) => g.prunable).map((g) => g.id);
  while (candidates.length) {
    let result = trial(candidates);
    if (!result.ok && !unpruned) {
      unpruned = inferredShapes(model);
      result = trial(candidates);
    }
    if (result.ok) break;
    const touching = groupsAt(result.at);
    let culprits = candidates.filter((id) => touching.has(id));
    let reason = result.reason;
    if (!culprits.length) {
      const found = isolate(candidates, trial);
      culprits = [found.id];
      reason = found.reason;
    }
    for (const id of culprits) declined.set(id, `not confirmed by shape inference: ${reason}`);
    candidates = candidates.filter((id) => !culprits.includes(id));
  }
  return declined;
}

/** One group whose trial fails, among `ids` whose trial fails together: by halving, then by growing a half. */
function isolate(ids: readonly number[], trial: (ids: readonly number[]) => Trial): { id: number; reason: string } {
  const whole = trial(ids);
  const reason = whole.ok ? '' : whole.reason;
  if (ids.length === 1) return { id: ids[0]!, reason };
  const half = ids.slice(0, ids.length >> 1);
  const other = ids.slice(ids.length >> 1);
  for (const part of [half, other]) if (!trial(part).ok) return isolate(part, trial);
  // Only together: add the other half's groups one by one; the one that makes it fail is a culprit.
  for (let k = 1; k < other.length; k++) {
    const r = trial([...half, ...other.slice(0, k)]);
    if (!r.ok) return { id: other[k - 1]!, reason: r.reason };
  }
  return { id: other[other.length - 1]!, reason };
}

/** Classes to keep in a trial: every third unit of the groups `ids` removed (keeping each nonEmpty set alive). */
function trialKeep(groups: readonly ChannelGroup[], ids: readonly number[], classCount: number): Uint8Array {
  const keepClass = new Uint8Array(classCount).fill(1);
  for (const id of ids) {
    const g = groups[id]!;
    const keepUnit = Uint8Array.from({ length: g.channels }, (_, u) => (u % 3 === 0 ? 0 : 1));
    for (const set of g.nonEmpty) if (set.every((u) => !keepUnit[u])) keepUnit[set[0]!] = 1;
    g.unitClasses.forEach((c, u) => { keepClass[c] = keepUnit[u]!; });
  }
  return keepClass;
}

/** What a trial compares with when it fails: the unpruned copy as shape inference sees it. */
interface Unpruned {
  /** What shape inference finds for every value (the model's own shapes if it fails). */
  shapes: ReadonlyMap<Value, Shape | undefined>;
  /** Nodes inference already finds inconsistent unpruned: not a rewrite's doing. */
  problems: ReadonlySet<Node>;
}

/** What shape inference finds on an unpruned copy of the model. */
function inferredShapes(model: Model): Unpruned {
  const copy = cloneGraph(model.graph);
  const original = new Map([...copy.nodes].map(([o, c]) => [c, o]));
  try {
    const { problems } = inferShapes(new Model(model.proto, copy.graph, model.baseDir), { overwrite: true });
    return { shapes: new Map([...copy.values].map(([o, c]) => [o, c.shape])), problems: new Set(problems.map((p) => original.get(p.node)!)) };
  } catch {
    return { shapes: new Map([...copy.values].map(([o]) => [o, o.shape])), problems: new Set() };
  }
}

/**
 * Rewrites a structural copy of the model and compares what shape inference finds with the engine's prediction;
 * values the rewrite does not track must keep their `unpruned` shape (default: the model's).
 */
function trialRewrite(model: Model, st: AnalysisState, keepClass: Uint8Array, unpruned?: Unpruned): Trial {
  const copy = cloneGraph(model.graph);
  const scratch = new Model(model.proto, copy.graph, model.baseDir);
  let newShapes: ReadonlyMap<Value, Dim[]>;
  try {
    const plan = planRewrite(st, keepClass, {
      graph: copy.graph, opset: model.opsetVersion, node: (n) => copy.nodes.get(n)!, value: (v) => copy.values.get(v)!, dimsOnlyAbove: MAX_FOLD,
    });
    plan.apply();
    newShapes = plan.newShapes;
  } catch (e) {
    if (e instanceof RewriteGap) return { ok: false, at: [e.node], reason: `${e.node.opType} '${e.node.label}': ${e.message.replace(/^internal: /, '')}` };
    throw e;
  }
  let problems: readonly ShapeProblem[];
  try {
    ({ problems } = inferShapes(scratch, { overwrite: true }));
  } catch (e) {
    return { ok: false, at: [], reason: `shape inference fails on the pruned model (${(e as Error).message})` };
  }
  const original = new Map([...copy.nodes].map(([o, c]) => [c, o]));
  // A node the rewrite left contradicting its operands (a Conv whose weight expects other input channels) is blamed
  // like a wrong shape, unless it was already so unpruned or an input it reads is already wrong.
  const problemAt = new Map(problems.filter((p) => !unpruned?.problems.has(original.get(p.node)!)).map((p) => [p.node, p.message]));
  const wrong = new Set<Value>();
  const at: Node[] = [];
  let reason = '';
  for (const c of dependencyOrder(copy.graph).order) {
    const o = original.get(c);
    const upstream = c.inputs.some((v) => v && wrong.has(v));
    const problem = problemAt.get(c);
    if (problem !== undefined) {
      for (const v of c.outputs) if (v) wrong.add(v);
      if (!upstream && o && !at.includes(o)) at.push(o);
      if (!upstream) reason ||= problem;
      continue;
    }
    // Nodes the rewrite added, and constants it sliced (their new dims are the slices'), have nothing to compare.
    if (!o || o.outputs.every((v) => !v || constantSource(v))) continue;
    c.outputs.forEach((cv, i) => {
      const ov = o.outputs[i];
      const want = cv && ov ? newShapes.get(cv) ?? (unpruned ? unpruned.shapes.get(ov) : ov.shape) : undefined;
      if (!cv || !want || !cv.shape || !disagree(want, cv.shape)) return;
      wrong.add(cv);
      if (upstream) return;
      if (!at.includes(o)) at.push(o);
      reason ||= `${o.opType} '${o.label}': the engine predicts [${want}] for '${cv.name}' but shape inference finds [${cv.shape}]`;
    });
  }
  if (!reason && problemAt.size) reason = [...problemAt.values()][0]!;
  return reason ? { ok: false, at, reason } : { ok: true };
}

/** Every label array that meets a node: on its inputs and outputs, and in the edits planned for it. */
function labelsByNode(st: AnalysisState): (n: Node) => Labels[] {
  const edits = new Map<Node, Labels[]>();
  for (const e of st.edits) {
    const list = edits.get(e.node) ?? edits.set(e.node, []).get(e.node)!;
    list.push(...editLabels(e));
  }
  return (n) => {
    const out = [...(edits.get(n) ?? [])];
    for (const v of [...n.inputs, ...n.outputs]) for (const l of st.axesOf(v)?.values() ?? []) out.push(l);
    return out;
  };
}
