import type { Dim } from '../value.js';
import { op, type Attrs, type RuleContext, type RuleTable } from './context.js';

/**
 * RNN / GRU / LSTM: X is [seq, batch, input] ([batch, seq, input] with layout 1). Outputs Y [seq, dirs, batch,
 * hidden], Y_h and (LSTM) Y_c [dirs, batch, hidden]; with layout 1, batch comes first in each.
 */
function recurrent(ctx: RuleContext) {
  const elemType = ctx.type(0);
  const x = ctx.shape(0);
  const batchFirst = ctx.int('layout', 0) === 1;
  const seq: Dim = x?.[batchFirst ? 1 : 0] ?? null;
  const batch: Dim = x?.[batchFirst ? 0 : 1] ?? null;
  const dirs = ctx.node.getString('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const hidden: Dim = ctx.node.getInt('hidden_size') ?? ctx.shape(2)?.[2] ?? null;
  const y = batchFirst ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden];
  const state = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden];
  return [{ elemType, shape: y }, { elemType, shape: state }, { elemType, shape: state }];
}

const RECURRENT_ATTRS: Attrs = {
  activation_alpha: 'floats', activation_beta: 'floats', activations: 'strings', clip: 'float', direction: 'string', hidden_size: 'int',
  layout: 'int', output_sequence: 'int',
};

export const recurrentRules: RuleTable = {
  RNN: op('T T T T? int32? T?', 'T? T?', RECURRENT_ATTRS, recurrent),
  GRU: op('T T T T? int32? T?', 'T? T?', { ...RECURRENT_ATTRS, linear_before_reset: 'int' }, recurrent),
  LSTM: op('T T T T? int32? T? T? T?', 'T? T? T?', { ...RECURRENT_ATTRS, input_forget: 'int' }, recurrent),
};
