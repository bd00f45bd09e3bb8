import type { TypeProto, ValueInfoProto } from 'onnx-buf';
import type { Graph } from './graph.js';
import type { Node } from './node.js';
import type { Tensor } from './tensor.js';

/** One dimension: a known size, a symbolic name (dim_param), or unknown. */
export type Dim = number | string | null;
export type Shape = Dim[];

/** A place a value is consumed: input `index` of `node`. */
export interface Use {
  readonly node: Node;
  readonly index: number;
}

/**
 * An SSA value: a graph input, an initializer, or a node output. It knows its producer and every use, so passes
 * walk def-use chains instead of searching names. Every change to it counts as a change to its graph (see
 * `Graph.revision`).
 */
export class Value {
  /** The value_info / input / output entry it was read from, kept so untouched entries are written back exactly. */
  infoProto: ValueInfoProto | undefined;
  readonly graph: Graph;
  private currentName: string;
  private currentElemType: number | undefined;
  private currentShape: Shape | undefined;
  private currentInitializer: Tensor | undefined;
  private producerNode: Node | undefined;
  private readonly useList: Use[] = [];

  constructor(graph: Graph, name: string) {
    this.graph = graph;
    this.currentName = name;
    this.currentElemType = undefined;
    this.currentShape = undefined;
    this.infoProto = undefined;
    this.currentInitializer = undefined;
  }

  get name(): string {
    return this.currentName;
  }

  set name(name: string) {
    if (name === this.currentName) return;
    this.currentName = name;
    this.graph.touch();
  }

  /** Element type (TensorProto.DataType); undefined when not known. */
  get elemType(): number | undefined {
    return this.currentElemType;
  }

  set elemType(t: number | undefined) {
    if (t === this.currentElemType) return;
    this.currentElemType = t;
    this.graph.touch();
  }

  /** Shape when known (rank and dims); undefined when even the rank is unknown. Setting equal dims is no change. */
  get shape(): Shape | undefined {
    return this.currentShape;
  }

  set shape(s: Shape | undefined) {
    const same = s === this.currentShape || (!!s && !!this.currentShape && s.length === this.currentShape.length && s.every((d, i) => d === this.currentShape![i]));
    this.currentShape = s;
    if (!same) this.graph.touch();
  }

  /** The constant data when this value is an initializer. */
  get initializer(): Tensor | undefined {
    return this.currentInitializer;
  }

  set initializer(t: Tensor | undefined) {
    if (t === this.currentInitializer) return;
    this.currentInitializer = t;
    this.graph.touch();
  }

  producer(): Node | undefined {
    return this.producerNode;
  }

  /**
   * The consumers, as (node, input index) pairs; a node using the value twice appears twice. A snapshot: rewiring
   * the uses while iterating over it is safe.
   */
  uses(): readonly Use[] {
    return [...this.useList];
  }

  /** Whether the value is one of its graph's inputs (constant time: the graph keeps its input set). */
  isGraphInput(): boolean {
    return this.graph.hasInput(this);
  }

  /** Whether the value is one of its graph's outputs (constant time). */
  isGraphOutput(): boolean {
    return this.graph.hasOutput(this);
  }

  /** Rank when the shape is known. */
  get rank(): number | undefined {
    return this.currentShape?.length;
  }

  toString(): string {
    const dims = this.currentShape ? `[${this.currentShape.map((d) => d ?? '?').join(',')}]` : '';
    return `${this.currentName}${dims}`;
  }

  /** @internal maintained by Node */
  setProducer(node: Node | undefined): void {
    this.producerNode = node;
    this.graph.touch();
  }

  /** @internal maintained by Node */
  addUse(node: Node, index: number): void {
    this.useList.push({ node, index });
    this.graph.touch();
  }

  /** @internal maintained by Node */
  removeUse(node: Node, index: number): void {
    const i = this.useList.findIndex((u) => u.node === node && u.index === index);
    if (i >= 0) this.useList.splice(i, 1);
    this.graph.touch();
  }
}

/** The type of a value_info entry, reduced to what passes use; non-tensor types keep only their proto. */
export function tensorTypeOf(type: TypeProto | undefined): { elemType: number | undefined; shape: Shape | undefined } {
  if (!type || type.value.case !== 'tensorType') return { elemType: undefined, shape: undefined };
  const t = type.value.value;
  const shape = t.shape
    ? t.shape.dim.map((d): Dim => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null))
    : undefined;
  return { elemType: t.elemType || undefined, shape };
}
