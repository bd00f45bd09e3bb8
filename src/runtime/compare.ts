import { halfToFloat } from '../ir/dtype.js';
import type { ort } from './ort.js';

/** How one output of the pruned model differs from the original's, over every sample compared. */
export interface OutputComparison {
  name: string;
  /** Dims of the first batch's output from each model (dim 0 is the batch). */
  originalShape: number[];
  prunedShape: number[];
  shapesMatch: boolean;
  /** max |pruned - original| over all elements. Null when the shapes differ. */
  maxAbs: number | null;
  meanAbs: number | null;
  /** maxAbs / max |original|: the worst deviation relative to the output's scale. */
  maxRel: number | null;
  /** meanAbs / mean |original|. */
  meanRel: number | null;
  /** Fraction of samples whose arg-max agrees, for [batch, classes] outputs. */
  top1Agreement?: number;
}

/** Accumulates deviation statistics batch by batch, so outputs never have to be held all at once. */
export class OutputComparer {
  private originalShape: number[] | undefined;
  private prunedShape: number[] | undefined;
  private shapesMatch = true;
  private maxAbs = 0;
  private sumAbs = 0;
  private maxRef = 0;
  private sumRef = 0;
  private count = 0;
  private rows = 0;
  private agree = 0;

  constructor(readonly name: string) {}

  /** Adds one batch; `rows` leading samples are real (the rest is padding for a fixed batch size). */
  add(a: ort.Tensor, b: ort.Tensor, rows: number): void {
    const da = [...a.dims];
    const db = [...b.dims];
    this.originalShape ??= da;
    this.prunedShape ??= db;
    if (da.length !== db.length || da.some((d, i) => d !== db[i])) this.shapesMatch = false;
    if (!this.shapesMatch) return;
    const x = numbers(a);
    const y = numbers(b);
    const per = da[0] ? x.length / da[0] : x.length;
    const n = da.length > 0 ? rows * per : x.length;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(y[i]! - x[i]!);
      const r = Math.abs(x[i]!);
      // NaN must win: a model producing NaN differs, and Math.max would hide it only in one direction.
      this.maxAbs = d > this.maxAbs || Number.isNaN(d) ? d : this.maxAbs;
      this.maxRef = Math.max(this.maxRef, r);
      this.sumAbs += d;
      this.sumRef += r;
    }
    this.count += n;
    if (da.length === 2 && da[1]! > 1) {
      for (let s = 0; s < rows; s++) if (argmax(x, s * per, per) === argmax(y, s * per, per)) this.agree++;
      this.rows += rows;
    }
  }

  result(): OutputComparison {
    const ok = this.shapesMatch && this.count > 0;
    const meanAbs = ok ? this.sumAbs / this.count : null;
    const out: OutputComparison = {
      name: this.name,
      originalShape: this.originalShape ?? [],
      prunedShape: this.prunedShape ?? [],
      shapesMatch: this.shapesMatch,
      maxAbs: ok ? finite(this.maxAbs) : null,
      meanAbs: ok ? finite(meanAbs!) : null,
      maxRel: ok ? ratio(this.maxAbs, this.maxRef) : null,
      meanRel: ok ? ratio(this.sumAbs, this.sumRef) : null,
    };
    if (this.shapesMatch && this.rows > 0) out.top1Agreement = this.agree / this.rows;
    return out;
  }
}

/** Counts correct arg-max predictions of a [batch, classes] output against labels. */
export class AccuracyCounter {
  correct = 0;
  total = 0;

  add(logits: ort.Tensor, labels: ArrayLike<number>, rows: number): void {
    const x = numbers(logits);
    const per = logits.dims[1]!;
    for (let s = 0; s < rows; s++) if (argmax(x, s * per, per) === labels[s]) this.correct++;
    this.total += rows;
  }

  get accuracy(): number {
    return this.total ? this.correct / this.total : 0;
  }
}

/** A tensor's elements as numbers, whatever its element type. */
export function numbers(t: ort.Tensor): ArrayLike<number> {
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d, Number);
  if (t.type === 'float16') return Float32Array.from(d as Uint16Array, halfToFloat);
  if (Array.isArray(d)) return Float64Array.from(d, Number);
  return d as ArrayLike<number>;
}

function argmax(x: ArrayLike<number>, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[start + i]! > x[start + best]!) best = i;
  return best;
}

function ratio(num: number, den: number): number | null {
  if (den === 0) return num === 0 ? 0 : null;
  return finite(num / den);
}

/** JSON has no NaN or Infinity: those become null. */
function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
