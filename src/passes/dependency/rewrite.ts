import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import { Tensor } from '../../ir/tensor.js';
import type { Dim, Value } from '../../ir/value.js';
import { RewriteGap } from './gap.js';
import { dropDead, planConstantSlices, type OperandSlice } from './constantRewrite.js';
import { planInputEdits } from './inputRewrite.js';
import { sliceTensor } from './slicing.js';
import type { AnalysisState, Edit, Labels } from './state.js';

/**
 * What a rewrite is applied to: the analysed graph itself, or a structural copy of it (`cloneGraph`) for a trial,
 * with the correspondence of nodes and values.
 */
export interface RewriteTarget {
  readonly graph: Graph;
  readonly opset: number;
  readonly node: (n: Node) => Node;
  readonly value: (v: Value) => Value;
  /**
   * Trials only: constants above this many elements are sliced as dims without data (shape inference never reads
   * their contents), so a trial costs no copy of the weights.
   */
  readonly dimsOnlyAbove?: number;
}

export interface PlannedRewrite {
  /** The pruned shape of every value that loses channels (values of the target graph), as the engine predicts it. */
  readonly newShapes: ReadonlyMap<Value, Dim[]>;
  /** Changes the target graph: slices constants, rewrites attributes and shape vectors, drops what became dead. */
  readonly apply: () => void;
}

/**
 * Plans the whole rewrite for the classes `keepClass` keeps, computing every new tensor and vector before anything
 * is touched. Throws a UserError when the keep lists would leave a tensor without channels, a RewriteGap when an
 * edit cannot be carried out.
 */
export function planRewrite(st: AnalysisState, keepClass: Uint8Array, target: RewriteTarget): PlannedRewrite {
  const kept = keptIndices(keepClass);
  const slices = new Map<Node, Map<number, OperandSlice>>();
  for (const e of st.edits) {
    if (e.kind !== 'slice') continue;
    const node = target.node(e.node);
    const byInput = slices.get(node) ?? slices.set(node, new Map()).get(node)!;
    let s = byInput.get(e.input);
    if (!s) byInput.set(e.input, (s = { node, input: e.input, keep: new Map() }));
    const k = kept(e.labels);
    const had = s.keep.get(e.axis);
    if (had && !sameIndices(had, k)) throw new RewriteGap(e.node, `${e.node.label} input ${e.input} axis ${e.axis} sliced two ways`);
    s.keep.set(e.axis, k);
  }
  const slicer = target.dimsOnlyAbove === undefined ? sliceTensor : dimsOnlySlicer(target.dimsOnlyAbove);
  const constantPlans = planConstantSlices(target.graph, [...slices.values()].flatMap((m) => [...m.values()]), slicer);
  const newShapes = new Map<Value, Dim[]>();
  for (const [original, axes] of st.tracked) {
    const v = target.value(original);
    for (const [axis, labels] of axes) {
      const n = kept(labels).length;
      if (n === 0) fail(`pruning would leave '${v.name}' with no channels on axis ${axis}: keep at least one unit of each set in the group's nonEmpty list`);
      if (n === labels.length || !v.shape || axis >= v.shape.length) continue;
      const shape = newShapes.get(v) ?? [...v.shape];
      shape[axis] = n;
      newShapes.set(v, shape);
    }
  }
  const edits = st.edits.map((e): Edit => ({ ...e, node: target.node(e.node) }));
  const inputPlans = planInputEdits(target.graph, target.opset, edits, kept, (v) => newShapes.get(v) ?? v.shape);
  return {
    newShapes,
    apply: () => {
      for (const p of constantPlans) p.apply();
      for (const [v, shape] of newShapes) v.shape = shape;
      const replaced = inputPlans.map((p) => p());
      dropDead(target.graph, replaced.flat());
    },
  };
}

/** Real slices when small (shape inference may fold them), dims-only tensors when big. */
function dimsOnlySlicer(limit: number): typeof sliceTensor {
  return (t, keep, name) => {
    const dims = t.dims.map((d, a) => keep.get(a)?.length ?? d);
    if (dims.reduce((p, d) => p * d, 1) <= limit) return sliceTensor(t, keep, name);
    return Tensor.fromBytes(name ?? t.name, dims, t.dataType, new Uint8Array(0));
  };
}

function sameIndices(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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
