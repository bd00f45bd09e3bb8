import { constantSource } from '../../ir/constants.js';
import type { Node } from '../../ir/node.js';
import type { Dim, Value } from '../../ir/value.js';
import { sliceConstantOperand } from './operands.js';
import type { ChannelRule } from './rules/rule.js';
import type { AnalysisState, Edit, Labels, Role } from './state.js';

/** What the analysis knows about the whole model while rules run. */
export interface ModelFacts {
  readonly opset: number;
  /** Integer tensors known at compile time (initializers, Constants, folded shape arithmetic). */
  readonly constants: ReadonlyMap<Value, number[]>;
  /** The channel rule of any node, for rules that look at their neighbours' behaviour. */
  readonly ruleFor: (node: Node) => ChannelRule | undefined;
}

/**
 * What a rule sees of one node: its inputs' tracked channel axes and shapes, and the operations that record how
 * channels flow (outputs, unions, roots, constant slices, edits) or why they cannot (blocks).
 */
export class NodeContext {
  /** Input label arrays a rule has dealt with; the driver declines any it left untouched. */
  readonly handled = new Set<Labels>();

  constructor(readonly st: AnalysisState, readonly facts: ModelFacts, readonly node: Node) {}

  /** Marks labels as dealt with (rules that only read them, e.g. to map them, say so). */
  use(labels: Labels): Labels {
    this.handled.add(labels);
    return labels;
  }

  get opset(): number {
    return this.facts.opset;
  }

  get op(): string {
    return this.node.opType;
  }

  /** `OpType 'name'`, how reasons name the node. */
  get where(): string {
    return `${this.node.opType} '${this.node.label}'`;
  }

  input(i: number): Value | undefined {
    return this.node.input(i);
  }

  output(i = 0): Value | undefined {
    return this.node.outputs[i] ?? undefined;
  }

  /** Tracked axes of input `i` (axis → labels), or undefined. */
  axes(i: number): ReadonlyMap<number, Labels> | undefined {
    const m = this.st.axesOf(this.node.input(i));
    return m && m.size ? m : undefined;
  }

  /**
   * Input i's channel axes and rank, for rules that need both: undefined when it carries no channels, or when its rank
   * is unknown (then every channel it touches is declined, since no axis can be trusted).
   */
  traced(i = 0): { axes: ReadonlyMap<number, Labels>; rank: number } | undefined {
    const axes = this.axes(i);
    if (!axes) return undefined;
    const rank = this.rank(this.input(i));
    if (rank === undefined) {
      this.declineAll(`${this.where}: rank unknown`);
      return undefined;
    }
    return { axes, rank };
  }

  /** Indices of inputs that carry tracked channels. */
  trackedInputs(): number[] {
    const out: number[] = [];
    this.node.inputs.forEach((_, i) => { if (this.axes(i)) out.push(i); });
    return out;
  }

  shape(v: Value | undefined): Dim[] | undefined {
    return v?.shape;
  }

  rank(v: Value | undefined): number | undefined {
    return v?.shape?.length;
  }

  /**
   * Contents of an input known at compile time: folded integer shape arithmetic, or stored constant data of any
   * numeric type (float scales too) up to 4096 elements; else undefined.
   */
  numbers(v: Value | undefined): number[] | undefined {
    if (!v) return undefined;
    const folded = this.facts.constants.get(v);
    if (folded) return folded;
    const src = constantSource(v);
    return src && src.tensor.numel <= 4096 ? src.tensor.toNumbers() : undefined;
  }

  /** Integer list that is attribute `attr` before `sinceOpset` and input `input` from it on (null: not constant). */
  intsArg(attr: string, input: number, sinceOpset: number): number[] | null | undefined {
    if (this.opset < sinceOpset) return this.node.getInts(attr);
    const v = this.input(input);
    if (!v) return undefined;
    return this.numbers(v) ?? null;
  }

  fresh(n: number): Labels {
    return this.st.fresh(n);
  }

  /**
   * Sets the labels of an output axis and records the node as a link in the chain. Labels that do not fit the axis
   * (a rule that misdescribes its op) are declined there instead.
   */
  setOut(o: number, axis: number, labels: Labels, role: Role = 'through'): void {
    this.handled.add(labels);
    const v = this.output(o);
    if (!v) return;
    const d = v.shape?.[axis];
    if (v.shape && (d === undefined || (typeof d === 'number' && d !== labels.length))) {
      this.st.block(labels, `${this.where}: ${labels.length} channels arrive on output ${o} axis ${axis}, which has ${d ?? 'no'} positions`);
      return;
    }
    this.st.set(v, axis, labels);
    this.touch(role, labels);
  }

  /** Copies every tracked axis of input `i` to output `o` unchanged (elementwise ops). */
  passAll(i: number, o = 0): void {
    for (const [axis, labels] of this.axes(i) ?? []) this.setOut(o, axis, labels);
  }

  /**
   * Couples two label arrays position by position; arrays of different lengths are both declined instead. `sum`:
   * the op adds them (a residual Add), recorded when they were not coupled already, so the group is known to be a
   * residual stream.
   */
  unite(a: Labels, b: Labels, how: 'couple' | 'sum' = 'couple'): void {
    this.handled.add(a).add(b);
    if (a.length === b.length) {
      if (how === 'sum' && a.length && this.st.atoms.find(a[0]!) !== this.st.atoms.find(b[0]!)) this.st.sums.push({ node: this.node, labels: a });
      this.st.unite(a, b);
    } else {
      const why = `${this.where}: channel axes of ${a.length} and ${b.length} meet`;
      this.st.block(a, why);
      this.st.block(b, why);
    }
  }

  touch(role: Role, labels: Labels): void {
    this.handled.add(labels);
    this.st.touches.push({ node: this.node, role, labels });
  }

  edit(e: Edit): void {
    this.st.edits.push(e);
  }

  block(labels: Labels, reason: string): void {
    this.handled.add(labels);
    this.st.block(labels, reason);
  }

  /** Declines every channel this node's inputs carry (unknown op, unsupported attribute, control flow). */
  declineAll(reason: string): void {
    this.node.inputs.forEach((_, i) => {
      for (const labels of this.axes(i)?.values() ?? []) this.block(labels, reason);
    });
  }

  /** Declines the channels of one input axis that this rule cannot carry. */
  declineAxis(i: number, axis: number, why: string): void {
    const labels = this.axes(i)?.get(axis);
    if (labels) this.block(labels, `${this.where}: ${why}`);
  }

  /**
   * Records that constant input `i` is sliced along `axis` by `labels` (a per-channel scale, a consumer's weight).
   * When the input is not a constant the channels are declined instead; returns whether it is a constant.
   */
  slice(i: number, axis: number, labels: Labels): boolean {
    this.handled.add(labels);
    const why = sliceConstantOperand(this.st, this.facts, this.node, i, axis, labels);
    if (why) this.block(labels, `${this.where}: ${why}`);
    return why === undefined;
  }

  /** A consumer: the channels of data input `data` axis `axis` index axis `weightAxis` of constant input `weight`. */
  consume(data: number, axis: number, weight: number, weightAxis: number): void {
    const labels = this.axes(data)?.get(axis);
    if (!labels) return;
    if (!this.slice(weight, weightAxis, labels)) return;
    this.touch('consumer', labels);
    this.st.consumers.push({ node: this.node, data, axis, weight, weightAxis, labels });
  }

  /** Starts new atoms for the `n` output channels on output `o` axis `axis`; the weight slices along `weightAxis`. */
  root(o: number, axis: number, n: number, weight: number, weightAxis: number, scoring = true): Labels {
    const labels = this.weightRoot(n, weight, weightAxis, scoring, o, axis);
    if (this.output(o)) this.setOut(o, axis, labels, scoring ? 'producer' : 'source');
    return labels;
  }

  /**
   * Starts new atoms for the `n` output features of constant input `weight` (indexed by `weightAxis`), which the rule
   * then places on its outputs itself (a fused attention's packed QKV weight: only the value section leaves it).
   */
  weightRoot(n: number, weight: number, weightAxis: number, scoring = true, o = 0, axis = -1): Labels {
    const labels = this.fresh(n);
    const output = this.output(o);
    if (!output) return labels;
    this.st.roots.push({ node: this.node, output, axis, labels, scoring, weight: { input: weight, axis: weightAxis } });
    this.edit({ kind: 'slice', node: this.node, input: weight, axis: weightAxis, labels });
    this.touch(scoring ? 'producer' : 'source', labels);
    return labels;
  }
}

/** Axis `axis` of a rank-`rank` tensor made non-negative, or undefined when out of range. */
export function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}
