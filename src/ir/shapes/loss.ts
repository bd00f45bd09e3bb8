import type { RuleContext, RuleTable } from './context.js';

/** Scores [N, C, *d] against labels [N, *d]: a scalar, or per element ([N, *d]) with reduction 'none'. */
function lossShape(ctx: RuleContext) {
  return ctx.node.getString('reduction', 'mean') === 'none' ? ctx.shape(1) : [];
}

export const lossRules: RuleTable = {
  NegativeLogLikelihoodLoss: (ctx) => [{ elemType: ctx.type(0), shape: lossShape(ctx) }],
  /** The optional second output, log_prob, is shaped like the scores. */
  SoftmaxCrossEntropyLoss: (ctx) => [{ elemType: ctx.type(0), shape: lossShape(ctx) }, { elemType: ctx.type(0), shape: ctx.shape(0) }],
};
