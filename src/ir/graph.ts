import type { GraphProto, ValueInfoProto } from 'onnx-buf';
import { fail } from './errors.js';
import { Node } from './node.js';
import type { Tensor } from './tensor.js';
import { Value } from './value.js';

/**
 * A computation graph: nodes in a (topological, after `topologicalSort`) order, graph inputs and outputs,
 * initializers, and the values they connect. Subgraphs (If/Loop/Scan bodies) have a `parent` and see its values.
 *
 * The input, output, initializer and value_info lists are plain arrays to read, and every write to them (index, push,
 * splice, reassignment) is seen: it bumps `revision`, and keeps the input/output sets behind `Value.isGraphInput()`
 * / `isGraphOutput()` current. `nodes` is a raw array (passes iterate it constantly): a node joins or leaves the
 * graph through `addNode` / `removeNodes`, or is wired with `Node.setInputs` / `setOutputs`, which record the change;
 * reordering it changes nothing the graph computes.
 */
export class Graph {
  name: string;
  /** The input / output entries read from the file, written back unchanged while the value's type agrees. */
  readonly inputProtos = new Map<Value, ValueInfoProto>();
  readonly outputProtos = new Map<Value, ValueInfoProto>();
  readonly parent: Graph | undefined;
  /** The GraphProto read from the file: keeps doc_string, sparse initializers, annotations and unknown fields. */
  readonly proto: GraphProto | undefined;
  private readonly values = new Map<string, Value>();
  private rev = 0;
  private inputSet: Set<Value> | undefined;
  private outputSet: Set<Value> | undefined;
  private readonly nodeItems: Node[] = [];
  // The input and output lists are kept twice: the raw array Graph reads, and the watched view everyone gets.
  private readonly inputItems: Value[] = [];
  private readonly outputItems: Value[] = [];
  private readonly inputList = watched(this.inputItems, () => { this.inputSet = undefined; this.touch(); });
  private readonly outputList = watched(this.outputItems, () => { this.outputSet = undefined; this.touch(); });
  private readonly initializerList = watched<Value>([], () => this.touch());
  private readonly valueInfoList = watched<Value>([], () => this.touch());

  constructor(init: { name?: string; parent?: Graph; proto?: GraphProto } = {}) {
    this.name = init.name ?? '';
    this.parent = init.parent;
    this.proto = init.proto;
  }

  /** Nodes in stored order. */
  get nodes(): Node[] {
    return this.nodeItems;
  }

  get inputs(): Value[] {
    return this.inputList;
  }

  set inputs(values: readonly Value[]) {
    this.inputList.splice(0, this.inputList.length, ...values);
  }

  get outputs(): Value[] {
    return this.outputList;
  }

  set outputs(values: readonly Value[]) {
    this.outputList.splice(0, this.outputList.length, ...values);
  }

  /** Initializer values in file order. */
  get initializers(): Value[] {
    return this.initializerList;
  }

  set initializers(values: readonly Value[]) {
    this.initializerList.splice(0, this.initializerList.length, ...values);
  }

  /** Values that had a value_info entry, in file order. */
  get valueInfo(): Value[] {
    return this.valueInfoList;
  }

  set valueInfo(values: readonly Value[]) {
    this.valueInfoList.splice(0, this.valueInfoList.length, ...values);
  }

  /**
   * A counter that grows with every change to the graph, its subgraphs, their nodes or values (structure,
   * attributes, shapes, types, initializers): equal revisions mean nothing changed in between.
   */
  get revision(): number {
    return this.rev;
  }

  /** Records a change (called by Node and Value on every edit; passes that edit through them need not call it). */
  touch(): void {
    for (let g: Graph | undefined = this; g; g = g.parent) g.rev++;
  }

  /** Whether `v` is one of this graph's inputs, in constant time. */
  hasInput(v: Value): boolean {
    return (this.inputSet ??= new Set(this.inputItems)).has(v);
  }

  /** Whether `v` is one of this graph's outputs, in constant time. */
  hasOutput(v: Value): boolean {
    return (this.outputSet ??= new Set(this.outputItems)).has(v);
  }

  /** The value of that name in this graph or an enclosing one. */
  find(name: string): Value | undefined {
    return this.values.get(name) ?? this.parent?.find(name);
  }

  /** The value of that name in this graph, created if new. */
  value(name: string): Value {
    let v = this.values.get(name);
    if (!v) {
      v = new Value(this, name);
      this.values.set(name, v);
    }
    return v;
  }

  /** A name not yet used in this graph or its parents. */
  freshName(base: string): string {
    if (!this.find(base)) return base;
    for (let i = 1; ; i++) if (!this.find(`${base}_${i}`)) return `${base}_${i}`;
  }

  allValues(): IterableIterator<Value> {
    return this.values.values();
  }

  /** Adds an initializer value holding `tensor` (renamed to a fresh name when taken). */
  addInitializer(tensor: Tensor, name = tensor.name): Value {
    const fresh = this.freshName(name);
    const v = this.value(fresh);
    v.initializer = fresh === tensor.name ? tensor : tensor.renamed(fresh);
    v.elemType = tensor.dataType;
    v.shape = tensor.dims;
    this.initializers.push(v);
    return v;
  }

  /** Creates a node with fresh output values and appends it (or inserts it before `before`). */
  addNode(opType: string, inputs: readonly (Value | null)[], outputNames: readonly string[], init: { name?: string; domain?: string; before?: Node } = {}): Node {
    const node = new Node(this, opType, { name: init.name ?? '', domain: init.domain ?? '' });
    node.setInputs(inputs);
    node.setOutputs(outputNames.map((n) => this.value(this.freshName(n))));
    const at = init.before ? this.nodeItems.indexOf(init.before) : -1;
    if (at >= 0) this.nodeItems.splice(at, 0, node);
    else this.nodeItems.push(node);
    this.touch();
    return node;
  }

  /** Removes nodes (safe to call while iterating over a copy of `nodes`); their outputs must be unused. */
  removeNodes(toRemove: Iterable<Node>): void {
    const set = new Set(toRemove);
    if (!set.size) return;
    for (const node of set) {
      for (const out of node.outputs) {
        if (out && (out.uses().some((u) => !set.has(u.node)) || out.isGraphOutput()))
          throw new Error(`cannot remove ${node.label}: its output '${out.name}' is still used`);
      }
    }
    for (const node of set) {
      node.setInputs([]);
      for (const out of node.outputs) if (out) this.values.delete(out.name);
      node.setOutputs([]);
    }
    const kept = this.nodeItems.filter((n) => !set.has(n));
    this.nodeItems.splice(0, this.nodeItems.length, ...kept);
    this.touch();
  }

  /**
   * Points every use of `from` at `to`. Refuses when `from` is a graph output (rewiring it would silently rename or
   * drop an output) unless `allowGraphOutput` is set, in which case the output list is updated too.
   */
  replaceAllUsesWith(from: Value, to: Value, allowGraphOutput = false): void {
    if (from.isGraphOutput()) {
      if (!allowGraphOutput) fail(`cannot replace '${from.name}': it is a graph output`);
      this.outputs = this.outputs.map((v) => (v === from ? to : v));
    }
    for (const { node, index } of from.uses()) node.setInput(index, to);
  }

  /** Reorders `nodes` so every value is produced before it is used (stable). Throws a UserError on a cycle. */
  topologicalSort(): void {
    const { order, cyclic } = dependencyOrder(this);
    if (cyclic > 0) fail(`graph '${this.name}' has a cycle: ${cyclic} nodes can never run`);
    this.nodes.splice(0, this.nodes.length, ...order);
  }

  /** Removes nodes none of whose outputs reach a graph output (nodes inside subgraphs count as uses). */
  eliminateDeadCode(): number {
    const live = new Set<Node>();
    const stack: Value[] = [...this.outputs];
    while (stack.length) {
      const v = stack.pop()!;
      const p = v.producer();
      if (!p || live.has(p) || p.graph !== this) continue;
      live.add(p);
      for (const i of nodeInputsDeep(p)) stack.push(i);
    }
    const dead = this.nodes.filter((n) => !live.has(n));
    if (dead.length) this.removeNodes(dead);
    const usedInit = this.initializers.filter((v) => v.uses().length > 0 || v.isGraphOutput() || v.isGraphInput());
    const removed = dead.length + this.initializers.length - usedInit.length;
    for (const v of this.initializers) if (!usedInit.includes(v)) this.values.delete(v.name);
    this.initializers = usedInit;
    this.valueInfo = this.valueInfo.filter((v) => this.values.get(v.name) === v);
    return removed;
  }

  /** Removes initializers or unused values from the graph's tables. */
  deleteValues(values: Iterable<Value>): void {
    const gone = new Set(values);
    if (!gone.size) return;
    for (const v of gone) {
      if (v.uses().length || v.producer()) throw new Error(`value '${v.name}' is still connected`);
      this.values.delete(v.name);
    }
    this.initializers = this.initializers.filter((x) => !gone.has(x));
    this.valueInfo = this.valueInfo.filter((x) => !gone.has(x));
  }

  /** Iterates this graph's nodes and, depth first, the nodes of every subgraph. */
  *allNodes(): IterableIterator<Node> {
    for (const n of this.nodes) {
      yield n;
      for (const gs of n.subgraphs.values()) for (const g of gs) yield* g.allNodes();
    }
  }
}

/** A structural copy of a graph and the correspondence of its nodes and values to the original's. */
export interface GraphCopy {
  readonly graph: Graph;
  readonly nodes: Map<Node, Node>;
  readonly values: Map<Value, Value>;
}

/**
 * A copy of the graph's structure, for trial rewrites that must not touch the original: new Graph, Node and Value
 * objects (names, types, shapes, attributes, subgraphs), sharing the tensors (passes replace an initializer's tensor,
 * they never edit one in place).
 */
export function cloneGraph(graph: Graph): GraphCopy {
  const nodes = new Map<Node, Node>();
  const values = new Map<Value, Value>();
  const copyInto = (g: Graph, parent: Graph | undefined): Graph => {
    const c = new Graph({ name: g.name, ...(parent ? { parent } : {}), ...(g.proto ? { proto: g.proto } : {}) });
    for (const v of g.allValues()) {
      const w = c.value(v.name);
      w.elemType = v.elemType;
      w.shape = v.shape ? [...v.shape] : undefined;
      w.initializer = v.initializer;
      w.infoProto = v.infoProto;
      values.set(v, w);
    }
    const map = (v: Value | null) => (v ? values.get(v) ?? null : null);
    c.inputs = g.inputs.map((v) => values.get(v)!);
    c.outputs = g.outputs.map((v) => values.get(v)!);
    c.initializers = g.initializers.map((v) => values.get(v)!);
    c.valueInfo = g.valueInfo.map((v) => values.get(v)!);
    for (const n of g.nodes) {
      const m = new Node(c, n.opType, { domain: n.domain, name: n.name, attributes: [...n.attributes], ...(n.proto ? { proto: n.proto } : {}) });
      for (const [attr, subs] of n.subgraphs) m.subgraphs.set(attr, subs.map((s) => copyInto(s, c)));
      m.setInputs(n.inputs.map(map));
      m.setOutputs(n.outputs.map(map));
      c.nodes.push(m);
      nodes.set(n, m);
    }
    return c;
  };
  return { graph: copyInto(graph, undefined), nodes, values };
}

/**
 * An array that calls `changed` after every write to it (element, length, or any mutating method), and reads as a
 * plain array.
 */
function watched<T>(items: T[], changed: () => void): T[] {
  return new Proxy<T[]>(items, {
    set(target, key, value) {
      const ok = Reflect.set(target, key, value);
      changed();
      return ok;
    },
    deleteProperty(target, key) {
      const ok = Reflect.deleteProperty(target, key);
      changed();
      return ok;
    },
  });
}

/** A node's inputs plus the outer-scope values its subgraphs read. */
export function nodeInputsDeep(n: Node): Value[] {
  const out: Value[] = [];
  for (const v of n.inputs) if (v) out.push(v);
  for (const gs of n.subgraphs.values()) for (const g of gs) for (const inner of g.allNodes())
    for (const v of inner.inputs) if (v && v.graph !== g && !isInside(v.graph, g)) out.push(v);
  return out;
}

/**
 * The graph's nodes with producers before consumers, as a copy (reordering graph.nodes would change the saved file).
 * Kahn's algorithm with a heap keyed by file position, so nodes already in order stay where they are. Nodes on a
 * cycle (an invalid graph) come last, in file order; `cyclic` counts them.
 */
export function dependencyOrder(graph: Graph): { order: Node[]; cyclic: number } {
  const nodes = graph.nodes;
  const index = new Map(nodes.map((n, i) => [n, i]));
  const pending = new Map<Node, number>();
  const consumers = new Map<Node, Node[]>();
  let sorted = true;
  for (const [i, n] of nodes.entries()) {
    const deps = new Set<Node>();
    for (const v of nodeInputsDeep(n)) {
      const p = v.producer();
      if (p && p !== n && index.has(p)) deps.add(p);
    }
    pending.set(n, deps.size);
    for (const d of deps) {
      if (index.get(d)! > i) sorted = false;
      const list = consumers.get(d);
      if (list) list.push(n);
      else consumers.set(d, [n]);
    }
  }
  if (sorted) return { order: [...nodes], cyclic: 0 };
  const ready = new MinHeap<Node>((a, b) => index.get(a)! - index.get(b)!);
  for (const n of nodes) if (pending.get(n) === 0) ready.push(n);
  const order: Node[] = [];
  while (ready.size > 0) {
    const n = ready.pop()!;
    order.push(n);
    for (const c of consumers.get(n) ?? []) {
      const left = pending.get(c)! - 1;
      pending.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  const cyclic = nodes.length - order.length;
  if (cyclic > 0) {
    const placed = new Set(order);
    for (const n of nodes) if (!placed.has(n)) order.push(n);
  }
  return { order, cyclic };
}

function isInside(g: Graph, ancestor: Graph): boolean {
  for (let x: Graph | undefined = g; x; x = x.parent) if (x === ancestor) return true;
  return false;
}

class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number { return this.items.length; }
  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.less(a[i]!, a[p]!) >= 0) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
