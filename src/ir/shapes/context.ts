import { DataType } from '../dtype.js';
import type { Node } from '../node.js';
import type { Tensor } from '../tensor.js';
import type { Dim, Shape, Value } from '../value.js';
import { allKnown, normalizeAxes, normalizeAxis } from './dims.js';

/** What a shape rule learns about one output of a node. */
export interface OutputInfo {
  elemType?: number | undefined;
  shape?: Shape | undefined;
  /**
   * The output's contents, row-major, when known at compile time (shape vectors and the arithmetic on them).
   * Entries may be symbolic dims or unknown (null): Shape of a [N,3,H,W] tensor is ['N', 3, 'H', 'W'].
   */
  value?: Dim[] | undefined;
}

/** A shape rule: one per ONNX op, named after it; returns what it knows about each output (undefined: nothing). */
export type ShapeRule = (ctx: RuleContext) => (OutputInfo | undefined)[];

/** Attribute types, as AttributeProto.AttributeType names them. */
export type AttrKind =
  | 'float' | 'int' | 'string' | 'tensor' | 'graph' | 'sparse_tensor'
  | 'floats' | 'ints' | 'strings' | 'tensors' | 'graphs' | 'sparse_tensors';

/** One input's type in an op signature. */
export interface OperandType {
  /** The type parameter (T, Tind); undefined for an input of a fixed type. */
  readonly param?: string;
  /** The element types it may have (TensorProto.DataType); undefined: any. */
  readonly allowed?: readonly number[];
  /** Whether it may be left out ('' or absent). */
  readonly optional?: boolean;
}

/**
 * What a node of an op may look like in some opset version. `inputTypes` gives each input's type as the ONNX spec
 * does (the last one repeats for variadic ops): a type parameter that inputs sharing it must agree on, the
 * element types allowed (none listed: any), and whether it is optional. `inputs` and `outputs` are the fewest and
 * most of each (the fewest reach the last required one: onnxruntime's contrib ops have optional inputs before
 * required ones; omitted optional ones written as '' count; max Infinity for variadic ops). `attrs` gives the type
 * of every attribute the op has ever taken (two types where an opset version changed it, as Cast's `to`).
 */
export interface OpSignature {
  readonly inputTypes: readonly OperandType[];
  readonly inputs: readonly [number, number];
  readonly outputs: readonly [number, number];
  readonly attrs: Readonly<Record<string, AttrKind | readonly AttrKind[]>>;
  /** Attributes not in `attrs` are allowed (onnxruntime's schema for the op says so); those listed are still typed. */
  readonly uncheckedAttributes?: boolean;
}

/** Everything we know about one op: its signature and its shape rule, side by side. */
export interface OpRule {
  readonly signature: OpSignature;
  readonly infer: ShapeRule;
}
export type RuleTable = Record<string, OpRule>;
export type Attrs = OpSignature['attrs'];

/**
 * An op's rule from its inputs and outputs as the spec lists them, the union over opset versions: 'T T T?' (three
 * inputs of one type, the last optional), 'T...' (one or more), 'T int64?' (the second of a fixed type),
 * 'T Tind=int32|int64' (a parameter allowed only those types; stated at its first use). Then its attributes' types
 * and its shape rule.
 */
export function op(inputs: string, outputs: string, attrs: Attrs, infer: ShapeRule, opts: { uncheckedAttributes?: true } = {}): OpRule {
  const inputList = parseParameters(inputs);
  return { signature: { inputTypes: inputList.types, inputs: inputList.range, outputs: parseParameters(outputs).range, attrs, ...opts }, infer };
}

function parseParameters(list: string): { types: OperandType[]; range: readonly [number, number] } {
  const tokens = list.split(' ').filter((t) => t !== '');
  const isOptional = (t: string): boolean => t.endsWith('?');
  const required = tokens.length - [...tokens].reverse().findIndex((t) => !isOptional(t));
  const variadic = tokens.some((t) => t.endsWith('...'));
  const sets = new Map<string, number[]>();
  const types = tokens.map((token): OperandType => {
    const t = token.replace(/\?$|\.\.\.$/, '');
    const optional = isOptional(token) ? { optional: true } : {};
    const [name, set] = /^[A-Z]/.test(t) ? t.split('=') as [string, string | undefined] : [undefined, t];
    if (set !== undefined) {
      const allowed = set.split('|').map((x) => DataType[x.toUpperCase() as keyof typeof DataType]);
      if (allowed.some((x) => x === undefined)) throw new Error(`op signature '${list}': unknown type in '${set}'`);
      if (!name) return { allowed, ...optional };
      sets.set(name, allowed);
    }
    return { param: name!, ...optional };
  });
  // A parameter's allowed types are stated once and hold wherever it appears.
  const withSets = types.map((t) => (t.param && sets.has(t.param) ? { ...t, allowed: sets.get(t.param)! } : t));
  return { types: withSets, range: [required > tokens.length ? 0 : required, variadic ? Infinity : tokens.length] };
}

/** `consumed_inputs`, which opset 1 gave many ops and opset 6 removed. */
export const LEGACY: Attrs = { consumed_inputs: 'ints' };

/** Largest tensor whose contents we fold: shape vectors and scalars, never weights. */
export const MAX_FOLD = 1024;

/** Integer arguments that older opsets take as attributes and newer ones as inputs: absent, given, or unknown. */
export type IntsArg = number[] | null | undefined;

const FOLDABLE_TYPES = new Set<number>([
  DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16, DataType.BOOL,
  DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
  DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64,
]);

export function isIntegerType(t: number | undefined): boolean {
  return t === DataType.INT64 || t === DataType.INT32 || t === DataType.INT16 || t === DataType.INT8 ||
    t === DataType.UINT64 || t === DataType.UINT32 || t === DataType.UINT16 || t === DataType.UINT8 || t === DataType.BOOL;
}

/** Contents known at compile time: folded node outputs, and small initializers read on first use. */
export class FoldedValues {
  private readonly known = new Map<Value, Dim[]>();
  private readonly misses = new Set<Value>();

  get(v: Value | undefined): Dim[] | undefined {
    if (!v) return undefined;
    const hit = this.known.get(v);
    if (hit || this.misses.has(v)) return hit;
    const read = readInitializer(v);
    if (read) this.known.set(v, read);
    else this.misses.add(v);
    return read;
  }

  set(v: Value, value: Dim[] | undefined): void {
    this.misses.delete(v);
    if (value) this.known.set(v, value);
    else this.known.delete(v);
  }

  entries(): IterableIterator<[Value, Dim[]]> {
    return this.known.entries();
  }
}

function readInitializer(v: Value): Dim[] | undefined {
  return v.initializer && !v.isGraphInput() ? tensorContents(v.initializer) : undefined;
}

/** A small numeric tensor's values, or undefined for large or non-numeric tensors. */
export function tensorContents(t: Tensor): Dim[] | undefined {
  if (t.numel > MAX_FOLD || !FOLDABLE_TYPES.has(t.dataType)) return undefined;
  return t.toNumbers();
}

/** Where a rule reports that a node contradicts itself or its operands (an invalid model). */
export type ProblemSink = (message: string) => void;

/** What a rule sees of its node: input shapes, types and folded contents, and the opset it runs under. */
export class RuleContext {
  constructor(
    readonly node: Node,
    readonly opset: number,
    private readonly folded: FoldedValues,
    private readonly problems: ProblemSink = () => {},
  ) {}

  /**
   * Reports that the node is invalid (an attribute out of range, operands that disagree). The rule still returns
   * what it can; whether the report stops inference is the caller's (inferShapes: a first inference refuses the model).
   */
  invalid(message: string): void {
    this.problems(message);
  }

  /**
   * Reports input `i` when it is given, its rank is known and lies outside [min, max]: shape vectors are 1-D
   * (Reshape's shape, Pad's pads), Range's bounds and Clip's limits scalars.
   */
  operandRank(i: number, min: number, max: number, what: string): void {
    const r = this.has(i) ? this.rank(i) : undefined;
    if (r !== undefined && (r < min || r > max))
      this.invalid(`${what} (input ${i}) has rank ${r} but must be ${min === max ? (min === 0 ? 'a scalar' : `of rank ${min}`) : `of rank ${min} to ${max}`}`);
  }

  /** Axis `axis` of a rank-`rank` operand, reporting it as invalid when out of range. */
  axis(axis: number, rank: number, what = 'axis'): number | undefined {
    const a = normalizeAxis(axis, rank);
    if (a === undefined) this.invalid(`${what} ${axis} is out of range for rank ${rank} (valid: ${-rank} to ${rank - 1})`);
    return a;
  }

  /** Several axes, reporting any out of range or repeated. */
  axes(axes: readonly number[], rank: number, what = 'axes'): number[] | undefined {
    const a = normalizeAxes(axes, rank);
    if (a === undefined) this.invalid(`${what} [${axes.join(', ')}] are out of range or repeated for rank ${rank}`);
    return a;
  }

  /** Whether optional input `i` is given. */
  has(i: number): boolean {
    return this.node.input(i) !== undefined;
  }

  shape(i: number): Shape | undefined {
    return this.node.input(i)?.shape;
  }

  rank(i: number): number | undefined {
    return this.node.input(i)?.shape?.length;
  }

  type(i: number): number | undefined {
    return this.node.input(i)?.elemType;
  }

  /** Folded contents of input `i` (entries may be symbolic or unknown). */
  value(i: number): Dim[] | undefined {
    return this.folded.get(this.node.input(i));
  }

  /** Folded contents of input `i` when every entry is a known number. */
  numbers(i: number): number[] | undefined {
    const v = this.value(i);
    return v && allKnown(v) ? v : undefined;
  }

  /**
   * An integer list that is attribute `attr` before opset `sinceOpset` and input `input` from it on: undefined when
   * absent, null when given but not known at compile time. An empty constant input counts as absent.
   */
  intsArg(attr: string, input: number, sinceOpset: number): IntsArg {
    if (this.opset < sinceOpset) return this.node.getInts(attr);
    if (!this.has(input)) return undefined;
    const v = this.numbers(input);
    if (v) return v.length ? v : undefined;
    const s = this.shape(input);
    return s && s.length === 1 && s[0] === 0 ? undefined : null;
  }

  int(name: string, fallback: number): number {
    return this.node.getInt(name, fallback);
  }

  ints(name: string): number[] | undefined {
    return this.node.getInts(name);
  }
}
