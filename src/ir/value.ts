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
 * walk def-use chains instead of searching names.
 */
export class Value {
  name: string;
  /** Element type (TensorProto.DataType); undefined when not known. */
  elemType: number | undefined;
  /** Shape when known (rank and dims); undefined when even the rank is unknown. */
  shape: Shape | undefined;
  /** The value_info / input / output entry it was read from, kept so untouched entries are written back exactly. */
  infoProto: ValueInfoProto | undefined;
  /** The constant data when this value is an initializer. */
  initializer: Tensor | undefined;
  readonly graph: Graph;
  private producerNode: Node | undefined;
  private readonly useList: Use[] = [];

  constructor(graph: Graph, name: string) {
    this.graph = graph;
    this.name = name;
    this.elemType = undefined;
    this.shape = undefined;
    this.infoProto = undefined;
    this.initializer = undefined;
  }

  producer(): Node | undefined {
    return this.producerNode;
  }

  /** The consumers, as (node, input index) pairs; a node using the value twice appears twice. */
  uses(): readonly Use[] {
    return this.useList;
  }

  isGraphInput(): boolean {
    return this.graph.inputs.includes(this);
  }

  isGraphOutput(): boolean {
    return this.graph.outputs.includes(this);
  }

  /** Rank when the shape is known. */
  get rank(): number | undefined {
    return this.shape?.length;
  }

  /** The dims as numbers when every one is known. */
  staticShape(): number[] | undefined {
    if (!this.shape || this.shape.some((d) => typeof d !== 'number')) return undefined;
    return this.shape as number[];
  }

  toString(): string {
    const dims = this.shape ? `[${this.shape.map((d) => d ?? '?').join(',')}]` : '';
    return `${this.name}${dims}`;
  }

  /** @internal maintained by Node */
  setProducer(node: Node | undefined): void {
    this.producerNode = node;
  }

  /** @internal maintained by Node */
  addUse(node: Node, index: number): void {
    this.useList.push({ node, index });
  }

  /** @internal maintained by Node */
  removeUse(node: Node, index: number): void {
    const i = this.useList.findIndex((u) => u.node === node && u.index === index);
    if (i >= 0) this.useList.splice(i, 1);
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
