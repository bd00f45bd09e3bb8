import { constantNumbers, constantSource } from '../../ir/constants.js';
import { DataType } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import type { Node } from '../../ir/node.js';
import { Tensor } from '../../ir/tensor.js';
import type { Dim, Value } from '../../ir/value.js';
import { RewriteGap } from './gap.js';
import type { Edit, Labels } from './state.js';

/** A change to a node's attributes or small integer inputs; when run, returns the inputs it replaced. */
export type InputPlan = () => Value[];

/**
 * Plans the non-weight edits: `group` / `num_groups`, Split sizes, Slice bounds, and the shape vectors of Reshape /
 * Expand / Resize (written as fresh initializers from the outputs' new shapes, whatever computed them before).
 */
export function planInputEdits(graph: Graph, opset: number, edits: readonly Edit[], kept: (l: Labels) => Int32Array, newShape: (v: Value) => Dim[] | undefined): InputPlan[] {
  const plans: InputPlan[] = [];
  const bounds = new Map<Node, { starts: number[]; ends: number[] }>();
  for (const e of edits) {
    switch (e.kind) {
      case 'countAttr': {
        const n = kept(e.labels).length / e.perUnit;
        if (!Number.isInteger(n)) throw new RewriteGap(e.node, `${e.node.label} keeps a partial unit of its ${e.attr}`);
        plans.push(() => { e.node.setAttr(e.attr, n); return []; });
        break;
      }
      case 'sizesAttr': {
        const sizes = e.parts.map((l) => kept(l).length);
        plans.push(() => { e.node.setAttr(e.attr, sizes); return []; });
        break;
      }
      case 'splitSizes': {
        const sizes = e.outputs.map((l) => kept(l).length);
        if (opset < 13) plans.push(() => { e.node.setAttr('split', sizes); return []; });
        else plans.push(() => {
          e.node.attributes = e.node.attributes.filter((a) => a.name !== 'num_outputs');
          return replaceInput(graph, e.node, 1, sizes, DataType.INT64);
        });
        break;
      }
      case 'sliceBounds': {
        let b = bounds.get(e.node);
        if (!b) bounds.set(e.node, (b = { starts: [...e.starts], ends: [...e.ends] }));
        const k = kept(e.labels);
        b.starts[e.entry] = countBelow(k, e.start);
        b.ends[e.entry] = countBelow(k, e.end);
        break;
      }
      case 'freezeShape': {
        const plan = freezeShape(graph, e.node, e.axes, kept);
        if (plan) plans.push(plan);
        break;
      }
      case 'shapeInput': {
        const vector = shapeVector(e.node, e.mode, newShape);
        plans.push(Array.isArray(vector) ? () => replaceInput(graph, e.node, e.input, vector, DataType.INT64) : () => patchVector(graph, e.node, e.input, vector));
        break;
      }
      case 'slice':
        // Constant slices are planned by constantRewrite.ts.
        break;
      default: {
        const unhandled: never = e;
        throw new Error(`internal: edit ${(unhandled as Edit).kind} has no rewrite`);
      }
    }
  }
  for (const [node, b] of bounds) {
    if (opset < 10) plans.push(() => { node.setAttr('starts', b.starts); node.setAttr('ends', b.ends); return []; });
    else plans.push(() => {
      const t = node.input(1)?.elemType ?? DataType.INT64;
      return [...replaceInput(graph, node, 1, b.starts, t), ...replaceInput(graph, node, 2, b.ends, t)];
    });
  }
  return plans;
}

function countBelow(sorted: Int32Array, bound: number): number {
  let n = 0;
  while (n < sorted.length && sorted[n]! < bound) n++;
  return n;
}

/**
 * The new shape / sizes vector of a Reshape, Expand or Resize, from its output's new shape: a constant when every
 * entry can be written as one (symbolic dims the input has in place become 0 (copy) for Reshape, 1 for Expand; at most
 * one -1), else the entries that change (the pruned channel counts) by index, the others left to the vector the
 * graph computes at run time (`Concat(Shape(x)[0], Shape(x)[1], [144])` with batch and sequence symbolic).
 */
function shapeVector(node: Node, mode: 'reshape' | 'expand' | 'sizes', newShape: (v: Value) => Dim[] | undefined): number[] | Map<number, number> {
  const out = node.outputs[0]!;
  const x = node.input(0)!;
  const y = newShape(out);
  const xs = newShape(x) ?? x.shape;
  if (!y) throw new RewriteGap(node, `output shape of ${node.label} unknown`);
  if (mode === 'sizes') {
    if (!y.every((d): d is number => typeof d === 'number')) throw new RewriteGap(node, `${node.label} output not static`);
    return y;
  }
  const constant = mode === 'expand' ? expandConstant(y, xs) : reshapeConstant(y, xs, node.getInt('allowzero', 0) === 1);
  if (constant) return constant;
  const length = node.input(1)?.shape?.[0];
  if (typeof length !== 'number') throw new RewriteGap(node, `${node.label}: length of the shape vector unknown`);
  const entries = new Map<number, number>();
  const old = out.shape ?? [];
  y.forEach((d, k) => {
    if (typeof d !== 'number' || d === old[k]) return;
    const entry = k - (y.length - length);
    if (entry < 0) throw new RewriteGap(node, `${node.label}: the shape vector does not reach output axis ${k}`);
    entries.set(entry, d);
  });
  return entries;
}

function expandConstant(y: readonly Dim[], xs: readonly Dim[] | undefined): number[] | undefined {
  const offset = y.length - (xs?.length ?? 0);
  const out: number[] = [];
  for (const [i, d] of y.entries()) {
    if (typeof d === 'number') out.push(d);
    else if (xs && i >= offset && xs[i - offset] === d) out.push(1);
    else return undefined;
  }
  return out;
}

function reshapeConstant(y: readonly Dim[], xs: readonly Dim[] | undefined, allowzero: boolean): number[] | undefined {
  const out = y.map((d, i) => {
    if (typeof d === 'number') return d;
    if (!allowzero && typeof d === 'string' && xs && xs[i] === d) return 0;
    return -1;
  });
  return out.filter((d) => d === -1).length > 1 ? undefined : out;
}

/**
 * Rewrites entries of the shape vector input `i` of `node` in place, the others left as computed at run time: inside
 * the constant parts of the Concat that builds it when they hold every changed entry (the vector then reads as the
 * exporter would have written it), else as vector·M + B with M zero and B the new size at the changed entries.
 */
function patchVector(graph: Graph, node: Node, i: number, entries: ReadonlyMap<number, number>): Value[] {
  const vector = node.input(i)!;
  const pieces = concatPieces(vector, entries);
  if (pieces) return pieces.flatMap(({ concat, input, values, dataType }) => replaceInput(graph, concat, input, values, dataType));
  const length = vector.shape![0] as number;
  const m = Array.from({ length }, (_, k) => (entries.has(k) ? 0 : 1));
  const b = Array.from({ length }, (_, k) => entries.get(k) ?? 0);
  const name = (base: string) => graph.freshName(`${vector.name}_${base}`);
  const int = (values: number[]) => graph.addInitializer(Tensor.fromInt64(name('k'), [length], values));
  const add = (op: string, inputs: Value[]) => {
    const n = graph.addNode(op, inputs, [name(op.toLowerCase())], { before: node });
    n.output(0).elemType = DataType.INT64;
    n.output(0).shape = [length];
    return n.output(0);
  };
  node.setInput(i, add('Add', [add('Mul', [vector, int(m)]), int(b)]));
  return [];
}

/** The constant inputs of a single-use Concat building `vector` that hold all `entries`, with their new contents. */
function concatPieces(vector: Value, entries: ReadonlyMap<number, number>): { concat: Node; input: number; values: number[]; dataType: number }[] | undefined {
  const concat = vector.producer();
  if (!concat || concat.opType !== 'Concat' || vector.uses().length !== 1 || vector.isGraphOutput()) return undefined;
  const pieces: { concat: Node; input: number; values: number[]; dataType: number }[] = [];
  let at = 0;
  for (const [input, v] of concat.inputs.entries()) {
    const n = v?.shape?.length === 1 ? v.shape[0] : undefined;
    if (typeof n !== 'number') return undefined;
    const inside = [...entries.keys()].filter((e) => e >= at && e < at + n);
    if (inside.length) {
      const src = constantSource(v);
      if (!src) return undefined;
      const values = src.tensor.toNumbers();
      for (const e of inside) values[e - at] = entries.get(e)!;
      pieces.push({ concat, input, values, dataType: src.tensor.dataType });
    }
    at += n;
  }
  return pieces;
}

/** Points input `i` of `node` at a fresh integer initializer; returns the old input for dead-code removal. */
function replaceInput(graph: Graph, node: Node, i: number, values: number[], dataType: number): Value[] {
  const old = node.input(i);
  const name = graph.freshName(`${old?.name || node.label}_pruned`);
  const t = dataType === DataType.INT32 ? int32Tensor(name, values) : Tensor.fromInt64(name, [values.length], values);
  node.setInput(i, graph.addInitializer(t));
  return old ? [old] : [];
}

function int32Tensor(name: string, values: number[]): Tensor {
  const raw = new Uint8Array(values.length * 4);
  const dv = new DataView(raw.buffer);
  values.forEach((v, k) => dv.setInt32(4 * k, v, true));
  return Tensor.fromBytes(name, [values.length], DataType.INT32, raw);
}

/**
 * Whether input `index` of `node` (a shape vector of `length` entries) may read one of `entries`: anything but a
 * Gather of constant indices or a Slice of constant bounds (step 1) that miss them (`Shape(x)[1]` of a tensor whose
 * channel axis 2 is pruned reads nothing pruned).
 */
function readsEntries(node: Node, index: number, length: number, entries: readonly number[]): boolean {
  if (index !== 0) return true;
  const norm = (k: number) => (k < 0 ? k + length : k);
  if (node.opType === 'Gather' && node.getInt('axis', 0) === 0) {
    const idx = constantNumbers(node.input(1));
    return !idx || idx.some((k) => entries.includes(norm(k)));
  }
  if (node.opType === 'Slice' && node.input(1)) {
    const [starts, ends, axes, steps] = [1, 2, 3, 4].map((i) => (node.input(i) ? constantNumbers(node.input(i)) : undefined));
    if (!starts || !ends || starts.length !== 1 || (axes && axes[0] !== 0 && axes[0] !== -1) || (steps && steps[0] !== 1)) return true;
    const clamp = (k: number) => Math.min(Math.max(norm(k), 0), length);
    const [from, to] = [clamp(starts[0]!), clamp(ends[0]!)];
    return entries.some((e) => e >= from && e < to);
  }
  return true;
}

/**
 * Makes a Shape / Size node keep reporting the original sizes of the channel axes it reads: with a static shape the
 * output becomes a constant; otherwise Shape(x)·M + B (M zeroes the channel entries, B puts the originals back), or
 * Size(x)·C / C' for Size.
 */
function freezeShape(graph: Graph, node: Node, axes: Map<number, Labels>, kept: (l: Labels) => Int32Array): InputPlan | undefined {
  const out = node.outputs[0];
  const x = node.input(0);
  if (!out || !x?.shape || out.isGraphOutput()) return undefined;
  const rank = x.shape.length;
  const norm = (a: number) => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
  const start = node.opType === 'Shape' ? norm(node.getInt('start', 0)) : 0;
  const end = node.opType === 'Shape' ? norm(node.getInt('end', rank)) : rank;
  const original = x.shape.slice(start, end);
  let before = 1;
  let after = 1;
  const changed: number[] = [];
  for (const [a, labels] of axes) {
    if (a < start || a >= end) continue;
    const n = kept(labels).length;
    if (n === labels.length) continue;
    before *= labels.length;
    after *= n;
    changed.push(a - start);
    original[a - start] = labels.length;
  }
  if (!changed.length) return undefined;
  const users = out.uses();
  if (node.opType === 'Shape' && users.every((u) => !readsEntries(u.node, u.index, original.length, changed))) return undefined;
  const name = (base: string) => graph.freshName(`${out.name}_${base}`);
  return () => {
    let frozen: Value;
    if (original.every((d): d is number => typeof d === 'number')) {
      const values = node.opType === 'Shape' ? original : [original.reduce((p, d) => p * d, 1)];
      const dims = node.opType === 'Shape' ? [values.length] : [];
      frozen = graph.addInitializer(Tensor.fromInt64(name('original'), dims, values));
    } else {
      const at = graph.nodes.indexOf(node) + 1;
      const next = graph.nodes[at];
      const add = (op: string, inputs: Value[]) => {
        const n = graph.addNode(op, inputs, [name(op.toLowerCase())], next ? { before: next } : {});
        n.output(0).elemType = DataType.INT64;
        return n.output(0);
      };
      const int = (values: number[], dims: number[]) => graph.addInitializer(Tensor.fromInt64(name('k'), dims, values));
      if (node.opType === 'Shape') {
        const m = original.map((_, k) => (changed.includes(k) ? 0 : 1));
        const b = original.map((d, k) => (changed.includes(k) ? (d as number) : 0));
        frozen = add('Add', [add('Mul', [out, int(m, [m.length])]), int(b, [b.length])]);
      } else {
        frozen = add('Div', [add('Mul', [out, int([before], [])]), int([after], [])]);
      }
      frozen.shape = out.shape;
    }
    for (const u of users) u.node.setInput(u.index, frozen);
    return [out];
  };
}
