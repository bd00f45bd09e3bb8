import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, AttributeProto_AttributeType as AttrType, type AttributeProto, type NodeProto } from 'onnx-buf';
import type { Graph } from './graph.js';
import { Tensor } from './tensor.js';
import type { Value } from './value.js';

/**
 * An operator application. Inputs and outputs are Value references (null for an omitted optional input/output);
 * setting them keeps every Value's use list right. Every change to it counts as a change to its graph (see
 * `Graph.revision`).
 */
export class Node {
  /** Parsed bodies of GRAPH / GRAPHS attributes (If/Loop/Scan), by attribute name. */
  readonly subgraphs = new Map<string, Graph[]>();
  /** The NodeProto read from the file: keeps doc_string, metadata and unknown fields. */
  readonly proto: NodeProto | undefined;
  graph: Graph;
  private currentOpType: string;
  private currentDomain: string;
  private currentName: string;
  private currentAttributes: AttributeProto[];
  private readonly inputList: (Value | null)[] = [];
  private readonly outputList: (Value | null)[] = [];

  constructor(graph: Graph, opType: string, init: { domain?: string; name?: string; attributes?: AttributeProto[]; proto?: NodeProto } = {}) {
    this.graph = graph;
    this.currentOpType = opType;
    this.currentDomain = init.domain ?? '';
    this.currentName = init.name ?? '';
    this.currentAttributes = init.attributes ?? [];
    this.proto = init.proto;
  }

  get opType(): string {
    return this.currentOpType;
  }

  set opType(op: string) {
    this.currentOpType = op;
    this.graph.touch();
  }

  get domain(): string {
    return this.currentDomain;
  }

  set domain(d: string) {
    this.currentDomain = d;
    this.graph.touch();
  }

  get name(): string {
    return this.currentName;
  }

  set name(n: string) {
    this.currentName = n;
    this.graph.touch();
  }

  /**
   * Attributes in file order; GRAPH attributes' bodies live in `subgraphs` while in the IR. Replace the array (or
   * use `setAttr`) to change them: the array itself is never edited in place.
   */
  get attributes(): readonly AttributeProto[] {
    return this.currentAttributes;
  }

  set attributes(attrs: readonly AttributeProto[]) {
    this.currentAttributes = [...attrs];
    this.graph.touch();
  }

  get inputs(): readonly (Value | null)[] {
    return this.inputList;
  }

  get outputs(): readonly (Value | null)[] {
    return this.outputList;
  }

  /** A readable label: the node name, or op type and first output when unnamed. */
  get label(): string {
    return this.name || `${this.opType}(${this.outputList[0]?.name ?? '?'})`;
  }

  input(i: number): Value | undefined {
    return this.inputList[i] ?? undefined;
  }

  output(i = 0): Value {
    const v = this.outputList[i];
    if (!v) throw new Error(`node ${this.label} has no output ${i}`);
    return v;
  }

  setInput(i: number, v: Value | null): void {
    const old = this.inputList[i];
    if (old) old.removeUse(this, i);
    while (this.inputList.length <= i) this.inputList.push(null);
    this.inputList[i] = v;
    if (v) v.addUse(this, i);
  }

  setInputs(values: readonly (Value | null)[]): void {
    for (let i = this.inputList.length - 1; i >= 0; i--) this.inputList[i]?.removeUse(this, i);
    this.inputList.length = 0;
    values.forEach((v, i) => this.setInput(i, v));
  }

  setOutputs(values: readonly (Value | null)[]): void {
    for (const v of this.outputList) if (v && v.producer() === this) v.setProducer(undefined);
    this.outputList.length = 0;
    for (const v of values) {
      if (v) {
        const p = v.producer();
        if (p && p !== this) throw new Error(`value '${v.name}' already has producer ${p.label}`);
        v.setProducer(this);
      }
      this.outputList.push(v);
    }
  }

  /** Unhooks the node from its inputs and outputs (its outputs lose their producer). */
  detach(): void {
    this.setInputs([]);
    this.setOutputs([]);
  }

  attr(name: string): AttributeProto | undefined {
    return this.attributes.find((a) => a.name === name);
  }

  getInt(name: string, fallback: number): number;
  getInt(name: string): number | undefined;
  getInt(name: string, fallback?: number): number | undefined {
    const a = this.attr(name);
    return a ? Number(a.i) : fallback;
  }

  getInts(name: string): number[] | undefined {
    const a = this.attr(name);
    return a ? a.ints.map(Number) : undefined;
  }

  getFloat(name: string, fallback: number): number;
  getFloat(name: string): number | undefined;
  getFloat(name: string, fallback?: number): number | undefined {
    const a = this.attr(name);
    return a ? a.f : fallback;
  }

  getFloats(name: string): number[] | undefined {
    return this.attr(name)?.floats;
  }

  getString(name: string, fallback: string): string;
  getString(name: string): string | undefined;
  getString(name: string, fallback?: string): string | undefined {
    const a = this.attr(name);
    return a ? new TextDecoder().decode(a.s) : fallback;
  }

  getTensor(name: string): Tensor | undefined {
    const t = this.attr(name)?.t;
    return t ? new Tensor(t) : undefined;
  }

  /** Sets (or replaces in place, keeping attribute order) an attribute. */
  setAttr(name: string, value: number | number[] | string | Tensor, kind?: 'int' | 'float' | 'ints' | 'floats'): void {
    let a: AttributeProto;
    if (value instanceof Tensor) a = create(AttributeProtoSchema, { name, type: AttrType.TENSOR, t: value.proto });
    else if (typeof value === 'string') a = create(AttributeProtoSchema, { name, type: AttrType.STRING, s: new TextEncoder().encode(value) });
    else if (Array.isArray(value))
      a = kind === 'floats'
        ? create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: value })
        : create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: value.map((v) => BigInt(v)) });
    else a = kind === 'float'
      ? create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: value })
      : create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(value) });
    const i = this.currentAttributes.findIndex((x) => x.name === name);
    this.attributes = i >= 0 ? this.currentAttributes.map((x, j) => (j === i ? a : x)) : [...this.currentAttributes, a];
  }

  toString(): string {
    const ins = this.inputList.map((v) => v?.name ?? '').join(', ');
    const outs = this.outputList.map((v) => v?.name ?? '').join(', ');
    return `${outs} = ${this.domain ? this.domain + '.' : ''}${this.opType}(${ins})${this.name ? '  # ' + this.name : ''}`;
  }
}
