import { constantSource } from '../../ir/constants.js';
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import type { Tensor } from '../../ir/tensor.js';
import type { Value } from '../../ir/value.js';
import { sliceTensor } from './slicing.js';

/** One operand to slice: input `input` of `node`, keeping these indices per axis. */
export interface OperandSlice {
  readonly node: Node;
  readonly input: number;
  readonly keep: Map<number, Int32Array>;
}

/** A planned constant change, computed before anything is modified. */
interface Planned {
  readonly apply: () => void;
}

/**
 * Plans the slicing of constant operands in their storage (initializer or Constant node, through Cast/Identity, in
 * the stored element type). Data owned only by operands sliced the same way is replaced in place; data shared with
 * anything else gets a sliced copy for these operands, so other users keep the original.
 */
export function planConstantSlices(graph: Graph, slices: OperandSlice[], slicer: typeof sliceTensor = sliceTensor): Planned[] {
  const byValue = new Map<Value, OperandSlice[]>();
  for (const s of slices) {
    const v = s.node.input(s.input)!;
    (byValue.get(v) ?? byValue.set(v, []).get(v)!).push(s);
  }
  const plans: Planned[] = [];
  for (const [v, uses] of byValue) {
    const src = constantSource(v)!;
    // Operands of one value sliced differently each need their own copy.
    const bySpec = new Map<string, OperandSlice[]>();
    for (const u of uses) {
      const key = specKey(u.keep);
      (bySpec.get(key) ?? bySpec.set(key, []).get(key)!).push(u);
    }
    const owned = bySpec.size === 1 && ownsChain(v, src.stored, src.through, uses.length);
    for (const group of bySpec.values()) {
      const sliced = slicer(src.tensor, group[0]!.keep, src.tensor.name);
      plans.push({ apply: owned ? () => replaceInPlace(src.stored, src.through, sliced) : () => giveCopy(graph, group, src.through, sliced) });
    }
  }
  return plans;
}

function specKey(keep: Map<number, Int32Array>): string {
  return [...keep].sort(([a], [b]) => a - b).map(([a, k]) => `${a}:${k.join(',')}`).join('|');
}

/** Whether the stored data and every Cast/Identity after it serve only `n` uses of `v` (and no graph output). */
function ownsChain(v: Value, stored: Value, through: readonly Node[], n: number): boolean {
  const chain = [stored, ...through.map((t) => t.output(0))];
  for (let k = 0; k < chain.length - 1; k++) {
    const c = chain[k]!;
    if (c.isGraphOutput() || c.uses().length !== 1) return false;
  }
  return !v.isGraphOutput() && v.uses().length === n;
}

function replaceInPlace(stored: Value, through: readonly Node[], t: Tensor): void {
  const p = stored.producer();
  if (p && p.opType === 'Constant') {
    p.attributes = p.attributes.filter((a) => !a.name.startsWith('value'));
    p.setAttr('value', t);
  } else {
    stored.initializer = t;
  }
  stored.shape = t.dims;
  for (const n of through) n.output(0).shape = t.dims;
}

/** A fresh initializer (and a copy of the Cast chain) for these operands. */
function giveCopy(graph: Graph, uses: OperandSlice[], through: readonly Node[], t: Tensor): void {
  let cur = graph.addInitializer(t, graph.freshName(`${t.name || 'pruned'}_pruned`));
  const first = uses[0]!.node;
  for (const n of through) {
    const clone = graph.addNode(n.opType, [cur], [`${n.output(0).name}_pruned`], { name: n.name ? graph.freshName(`${n.name}_pruned`) : '', domain: n.domain, before: first });
    clone.attributes = [...n.attributes];
    const out = clone.output(0);
    out.elemType = n.output(0).elemType;
    out.shape = t.dims;
    cur = out;
  }
  for (const u of uses) u.node.setInput(u.input, cur);
}

/**
 * Removes the values nothing uses any more, and then whatever only fed them (dead shape arithmetic, orphaned
 * weights), in one batch.
 */
export function dropDead(graph: Graph, values: Iterable<Value>): void {
  const deadNodes = new Set<Node>();
  const deadInitializers = new Set<Value>();
  const used = (x: Value) => x.isGraphOutput() || x.uses().some((u) => !deadNodes.has(u.node));
  const stack = [...values];
  while (stack.length) {
    const x = stack.pop()!;
    if (used(x) || x.isGraphInput() || x.graph !== graph) continue;
    const p = x.producer();
    if (p) {
      if (deadNodes.has(p) || p.outputs.some((o) => o && used(o))) continue;
      deadNodes.add(p);
      for (const i of p.inputs) if (i) stack.push(i);
    } else if (x.initializer) {
      deadInitializers.add(x);
    }
  }
  graph.removeNodes(deadNodes);
  graph.deleteValues(deadInitializers);
}
