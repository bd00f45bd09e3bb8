import { op, type Attrs, type RuleContext, type RuleTable } from './context.js';

/** Scores [N, C, *d] against labels [N, *d]: a scalar, or per element ([N, *d]) with reduction 'none'. */
function lossShape(ctx: RuleContext) {
  return ctx.node.getString('reduction', 'mean') === 'none' ? ctx.shape(1) : [];
}

const LOSS_ATTRS: Attrs = { ignore_index: 'int', reduction: 'string' };

export const lossRules: RuleTable = {
  NegativeLogLikelihoodLoss: op('T Tind=int32|int64 T?', 'T', LOSS_ATTRS, (ctx) => [{ elemType: ctx.type(0), shape: lossShape(ctx) }]),
  /** The optional second output, log_prob, is shaped like the scores. */
  SoftmaxCrossEntropyLoss: op('T Tind=int32|int64 T?', 'T T?', LOSS_ATTRS, (ctx) => [{ elemType: ctx.type(0), shape: lossShape(ctx) }, { elemType: ctx.type(0), shape: ctx.shape(0) }]),
};
