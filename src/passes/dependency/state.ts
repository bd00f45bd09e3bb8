import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { UnionFind } from './unionFind.js';

/**
 * Channel labels of one axis of one tensor: the atom (after analysis: the class) of every position. Positions may
 * share a label: a flattened [C,H,W] axis repeats each channel's label H·W times. Never a view of another label
 * array (`slice`, not `subarray`): canonicalization rewrites each array once, in place.
 */
export type Labels = Int32Array;

/** How a node takes part in a group, for the readable member chain. */
export type Role = 'producer' | 'source' | 'through' | 'consumer';

/** A node whose output channels start new atoms. */
export interface Root {
  readonly node: Node;
  readonly output: Value;
  /** Axis of `output` holding the channels; -1 when they are not one output axis (a fused attention's packed QKV). */
  readonly axis: number;
  /** The atom of each output channel, in the node's own channel order. */
  readonly labels: Labels;
  /**
   * Scored producers (Conv, ConvTranspose, Gemm, MatMul with a constant weight) have output-channel vectors; sources
   * (a Gather from a constant embedding table) only slice their table.
   */
  readonly scoring: boolean;
  /** The constant input holding the output-channel vectors, and the axis that indexes output channels in it. */
  readonly weight: { readonly input: number; readonly axis: number };
}

/** One change the rewrite makes, decided during analysis (so the rewrite never has to decline). */
export type Edit =
  /** Slice constant input `input` of `node` along `axis`: keep the positions whose label is kept. */
  | { kind: 'slice'; node: Node; input: number; axis: number; labels: Labels }
  /**
   * An integer attribute that counts units of `perUnit` positions of `labels`: the new value is the kept positions
   * over `perUnit` (a grouped conv's `group`, GroupNormalization's `num_groups`, attention's `num_heads`).
   */
  | { kind: 'countAttr'; node: Node; attr: string; labels: Labels; perUnit: number }
  /** An ints attribute listing the sizes of consecutive parts (`qkv_hidden_sizes`): the kept count of each part. */
  | { kind: 'sizesAttr'; node: Node; attr: string; parts: Labels[] }
  /**
   * A shape-vector input (Reshape shape, Expand shape, Resize sizes) rewritten from the output's new shape: a constant
   * when every entry can be written as one, else only the entries that change (see inputRewrite.ts).
   */
  | { kind: 'shapeInput'; node: Node; input: number; mode: 'reshape' | 'expand' | 'sizes' }
  /** Slice along a channel axis: starts/ends entry `entry` recomputed from the kept positions before each bound. */
  | { kind: 'sliceBounds'; node: Node; entry: number; labels: Labels; start: number; end: number; starts: number[]; ends: number[] }
  /** Split along a channel axis: sizes become the kept counts of each output. */
  | { kind: 'splitSizes'; node: Node; outputs: Labels[] }
  /**
   * Shape / Size reading channel axes: the value keeps reporting the ORIGINAL sizes, because shape arithmetic can
   * feed computation (Swin's attention scale is (C // heads) ** -0.5) and every use that must see the new size (the
   * vectors of Reshape, Slice, Split, Expand along channels) is rewritten to a constant anyway.
   */
  | { kind: 'freezeShape'; node: Node; axes: Map<number, Labels> };

/**
 * A weight layer reading channels (Gemm, MatMul, Conv with a constant weight): data input `data` axis `axis` carries
 * `labels`, which index axis `weightAxis` of weight input `weight`. Recorded for what needs the consumers' weights and
 * inputs (activation-aware criteria, bias compensation); the slice itself is an Edit.
 */
export interface Consumer {
  readonly node: Node;
  readonly data: number;
  readonly axis: number;
  readonly weight: number;
  readonly weightAxis: number;
  readonly labels: Labels;
}

/** Every label array an edit refers to. */
export function editLabels(e: Edit): Labels[] {
  switch (e.kind) {
    case 'slice': case 'countAttr': case 'sliceBounds': return [e.labels];
    case 'sizesAttr': return e.parts;
    case 'splitSizes': return e.outputs;
    case 'freezeShape': return [...e.axes.values()];
    case 'shapeInput': return [];
    default: {
      const unhandled: never = e;
      throw new Error(`internal: edit ${(unhandled as Edit).kind} has no labels rule`);
    }
  }
}

/**
 * Where attention scores meet heads: the query heads (one label per head, on a batch axis of Q·Kᵀ or of a fused
 * attention op) of one attention. Groups holding them are attention groups: their units are heads, or KV groups
 * when several query heads share a key/value head.
 */
export interface Heads {
  readonly node: Node;
  readonly labels: Labels;
}

export interface Touch {
  readonly node: Node;
  readonly role: Role;
  readonly labels: Labels;
}

export interface Block {
  readonly labels: Labels;
  readonly reason: string;
}

/** Where channels of two different producers are added position by position (a residual Add, SkipLayerNorm). */
export interface Sum {
  readonly node: Node;
  readonly labels: Labels;
}

/** Everything propagation records; groups are formed from it once every node has been seen. */
export class AnalysisState {
  readonly atoms = new UnionFind();
  /** Tracked channel axes of every value: value → axis → labels. */
  readonly tracked = new Map<Value, Map<number, Labels>>();
  readonly roots: Root[] = [];
  readonly edits: Edit[] = [];
  readonly blocks: Block[] = [];
  readonly sums: Sum[] = [];
  readonly touches: Touch[] = [];
  readonly heads: Heads[] = [];
  readonly consumers: Consumer[] = [];

  fresh(n: number): Labels {
    const first = this.atoms.add(n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = first + i;
    return out;
  }

  axesOf(v: Value | null | undefined): ReadonlyMap<number, Labels> | undefined {
    return v ? this.tracked.get(v) : undefined;
  }

  set(v: Value, axis: number, labels: Labels): void {
    let m = this.tracked.get(v);
    if (!m) this.tracked.set(v, (m = new Map()));
    m.set(axis, labels);
  }

  /** Position-wise union of two label arrays of equal length (NodeContext.unite declines unequal ones). */
  unite(a: Labels, b: Labels): void {
    for (let i = 0; i < a.length; i++) this.atoms.union(a[i]!, b[i]!);
  }

  /** Unions every position of `labels` into one class. */
  uniteAll(labels: Labels, from = 0, to = labels.length): void {
    for (let i = from + 1; i < to; i++) this.atoms.union(labels[from]!, labels[i]!);
  }

  block(labels: Labels, reason: string): void {
    if (labels.length) this.blocks.push({ labels, reason });
  }
}
