import type { NodeContext } from '../context.js';
import type { Labels } from '../state.js';
import { rule, sameAxis, table, type ChannelRuleTable } from './rule.js';

/** Unary elementwise ops and activations: every channel passes straight through (all outputs: Dropout's mask too). */
function unary(ctx: NodeContext): void {
  ctx.node.outputs.forEach((_, o) => ctx.passAll(0, o));
}

/**
 * Numpy-broadcasting elementwise ops over inputs `operands` (default: all). Tracked operands meeting on an output
 * axis are coupled position by position (`how` 'sum': the op adds them, a residual Add); an operand of size 1 there
 * couples nothing; any other operand of the channel count must be a constant, which is sliced (a per-channel scale,
 * PRelu's slope), or the channels are declined.
 */
function broadcast(ctx: NodeContext, operands?: number[], how: 'couple' | 'sum' = 'couple'): void {
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
      else if (seen.length === labels.length) ctx.unite(seen, labels, how);
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

const UNARY = rule('elementwise: channels pass through', unary, { forward: sameAxis });
const BINARY = rule('broadcasting elementwise: tracked operands couple, per-channel constants are sliced, size-1 operands couple nothing', (c) => broadcast(c), { forward: sameAxis });
const SUMMING = rule('broadcasting sum: tracked operands are added (a residual stream), per-channel constants are sliced, size-1 operands couple nothing', (c) => broadcast(c, undefined, 'sum'), { forward: sameAxis });

export const elementwiseRules: ChannelRuleTable = {
  // Unary elementwise and activations.
  ...table([
    'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign',
    'Gelu', 'Erf', 'Mish', 'ThresholdedRelu', 'Shrink', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Sign',
    'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
    'Not', 'IsNaN', 'IsInf', 'Identity', 'Cast', 'Dropout', 'BitwiseNot',
  ], UNARY),
  // Sums: two producers' channels added position by position make a residual stream.
  ...table(['Add', 'Sub', 'Sum', 'Mean'], SUMMING),
  // Other binary / n-ary elementwise with broadcasting (Clip and PRelu take their bounds / slope as operands).
  ...table([
    'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod', 'PRelu', 'Clip', 'Equal', 'Less',
    'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'BitShift', 'CastLike',
  ], BINARY),
  Where: rule('broadcasting select: all three operands couple', (c) => broadcast(c, [0, 1, 2]), { forward: sameAxis }),
};

/** onnxruntime's fused activations (com.microsoft): FastGelu(x, bias) broadcasts its per-channel bias. */
export const microsoftElementwiseRules: ChannelRuleTable = {
  FastGelu: BINARY,
};
