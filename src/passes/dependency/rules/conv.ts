import { constantSource } from '../../../ir/constants.js';
import type { NodeContext } from '../context.js';
import { rule, type ChannelRuleTable } from './rule.js';

/**
 * Conv: weight [O, C/g, k...]. group 1: a root (output channels = weight axis 0, with the bias) and a consumer of
 * its input channels (weight axis 1). Depthwise (g = C): each output channel follows its input channel, so it passes
 * channels through, slicing weight axis 0 and shrinking `group`. Other grouped convs keep whole groups: every input
 * and output channel of one group is one unit. ConvTranspose: weight [C, O/g, k...], output channels on weight
 * axis 1, input channels on axis 0.
 */
export const convRules: ChannelRuleTable = {
  Conv: rule('root of output channels, consumer of input channels; depthwise passes through; grouped: whole groups',
    (c) => convLike(c, { outAxisInWeight: 0, inAxisInWeight: 1 })),
  ConvTranspose: rule('as Conv with output channels on weight axis 1', (c) => convLike(c, { outAxisInWeight: 1, inAxisInWeight: 0 })),
};

function convLike(ctx: NodeContext, w: { outAxisInWeight: number; inAxisInWeight: number }): void {
  const weight = ctx.input(1);
  const wDims = constantSource(weight)?.tensor.dims;
  if (!wDims) {
    ctx.declineAll(`${ctx.where}: the weight is not a constant`);
    return;
  }
  const g = ctx.node.getInt('group', 1);
  const transposed = w.outAxisInWeight === 1;
  const outChannels = transposed ? wDims[1]! * g : wDims[0]!;
  const inChannels = transposed ? wDims[0]! : wDims[1]! * g;
  const hasBias = !!ctx.input(2);
  const inAxes = ctx.axes(0);
  for (const a of inAxes?.keys() ?? []) if (a !== 1) ctx.declineAxis(0, a, `channels on axis ${a}, not the channel axis`);
  const inLabels = inAxes?.get(1);

  if (g === 1) {
    ctx.consume(0, 1, 1, w.inAxisInWeight);
    const out = ctx.root(0, 1, outChannels, 1, w.outAxisInWeight);
    if (hasBias) ctx.slice(2, 0, out);
    return;
  }
  if (!inLabels) {
    // Grouped conv on untracked input: its output channels are fixed by the groups; nothing to prune here.
    return;
  }
  if (inLabels.length !== inChannels) {
    ctx.block(inLabels, `${ctx.where}: ${inLabels.length} input channels but the weight expects ${inChannels}`);
    return;
  }
  ctx.use(inLabels);
  const perGroupIn = inChannels / g;
  const perGroupOut = outChannels / g;
  // Output channel j belongs to group floor(j / perGroupOut); it follows the first input channel of that group.
  const out = new Int32Array(outChannels);
  for (let j = 0; j < outChannels; j++) out[j] = inLabels[Math.floor(j / perGroupOut) * perGroupIn]!;
  if (perGroupIn > 1) for (let k = 0; k < g; k++) ctx.st.uniteAll(inLabels, k * perGroupIn, (k + 1) * perGroupIn);
  // Whole groups go: Conv's weight loses output rows [O, C/g, ...]; ConvTranspose's loses input rows [C, O/g, ...].
  ctx.slice(1, 0, transposed ? inLabels : out);
  if (hasBias) ctx.slice(2, 0, out);
  ctx.edit({ kind: 'countAttr', node: ctx.node, attr: 'group', labels: inLabels, perUnit: perGroupIn });
  ctx.setOut(0, 1, out);
}
