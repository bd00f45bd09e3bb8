import { DataType } from '../dtype.js';
import type { Node } from '../node.js';
import type { Tensor } from '../tensor.js';
import type { Dim, Shape, Value } from '../value.js';
import { allKnown } from './dims.js';

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
export type RuleTable = Record<string, ShapeRule>;

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

/** What a rule sees of its node: input shapes, types and folded contents, and the opset it runs under. */
export class RuleContext {
  constructor(readonly node: Node, readonly opset: number, private readonly folded: FoldedValues) {}

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
