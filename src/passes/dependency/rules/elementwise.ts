import type { NodeContext } from '../context.js';
import type { Labels } from '../state.js';

/** Unary elementwise ops and activations: every channel passes straight through (all outputs: Dropout's mask too). */
export function unary(ctx: NodeContext): void {
  ctx.node.outputs.forEach((_, o) => ctx.passAll(0, o));
}

/**
 * Numpy-broadcasting elementwise ops over inputs `operands` (default: all). Tracked operands meeting on an output
 * axis are coupled position by position (a residual Add); an operand of size 1 there couples nothing; any other
 * operand of the channel count must be a constant, which is sliced (a per-channel scale, PRelu's slope), or the
 * channels are declined.
 */
export function broadcast(ctx: NodeContext, operands?: number[]): void {
  const idx = operands ?? ctx.node.inputs.map((_, i) => i).filter((i) => ctx.input(i));
  const ranks = idx.map((i) => ctx.rank(ctx.input(i)));
  const tracked = idx.filter((i) => ctx.axes(i));
  if (!tracked.length) return;
  if (ranks.some((r) => r === undefined)) {
    ctx.declineAll(`${ctx.where}: operand ranks unknown, cannot tell how channels broadcast`);
    return;
  }
  const outRank = Math.max(...(ranks as number[]));
  const rankOf = (i: number) => ranks[idx.indexOf(i)]!;
  // Output axis → the labels meeting there.
  const meeting = new Map<number, Labels>();
  for (const i of tracked) {
    for (const [a, labels] of ctx.axes(i)!) {
      const k = a + outRank - rankOf(i);
      const seen = meeting.get(k);
      if (!seen) meeting.set(k, labels);
      else if (seen.length === labels.length) ctx.unite(seen, labels);
      else {
        ctx.block(seen, `${ctx.where}: channel axes of ${seen.length} and ${labels.length} meet`);
        ctx.block(labels, `${ctx.where}: channel axes of ${seen.length} and ${labels.length} meet`);
      }
    }
  }
  for (const [k, labels] of meeting) {
    for (const i of idx) {
      const a = k - (outRank - rankOf(i));
      if (a < 0 || ctx.axes(i)?.has(a)) continue;
      const d = ctx.shape(ctx.input(i))![a];
      if (d === 1) continue;
      if (d !== labels.length) {
        ctx.block(labels, `${ctx.where}: operand ${i} ('${ctx.input(i)!.name}') has ${d ?? 'an unknown size'} where the channels are`);
        continue;
      }
      ctx.slice(i, a, labels);
    }
    ctx.node.outputs.forEach((_, o) => ctx.setOut(o, k, labels));
  }
}

/** Where(cond, x, y): all three broadcast together. */
export function where(ctx: NodeContext): void {
  broadcast(ctx, [0, 1, 2]);
}
