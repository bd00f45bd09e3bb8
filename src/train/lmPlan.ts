import { constantSource } from '../ir/constants.js';
import { isFloatType } from '../ir/dtype.js';
import { fail } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import type { Value } from '../ir/value.js';
import { analysis } from '../passes/dependency/analyze.js';
import type { ChannelGroup } from '../passes/dependency/groups.js';

/**
 * What trains in a decoder LM: `all` its learned parameters, `ffn` the feed-forward layers, `attention` the attention
 * projections (Q, K, V and O, with their biases).
 */
export type LmTrainMode = 'all' | 'ffn' | 'attention';

/**
 * The stored constants that train. The dependency engine already knows which constants belong to which channels
 * (every weight, bias, embedding row and norm parameter a group slices), so its groups decide: `all` takes every
 * float constant some group slices, which leaves out constants no channel owns (rotary cos/sin tables and their
 * frequencies, mask fill values); `ffn` and `attention` take those of the FFN groups and the attention groups.
 */
export function planLmTraining(model: Model, mode: LmTrainMode): Set<Value> {
  const { groups, state, classGroup } = analysis(model);
  const wanted = new Set(groups.filter((g) => mode === 'all' || (mode === 'ffn' ? isFfn(g) : g.attention !== undefined)).map((g) => g.id));
  const out = new Set<Value>();
  for (const e of state.edits) {
    if (e.kind !== 'slice') continue;
    const src = constantSource(e.node.input(e.input));
    if (!src || !isFloatType(src.tensor.dataType)) continue;
    if (e.labels.some((c) => wanted.has(classGroup[c]!))) out.add(src.stored);
  }
  if (out.size === 0) {
    const what = mode === 'all' ? 'channel groups' : mode === 'ffn' ? 'feed-forward (FFN) groups' : 'attention groups';
    fail(`--train ${mode}: the dependency analysis finds no ${what} in this model, so there are no weights to train`);
  }
  return out;
}

/** An FFN's hidden neurons: dense producers whose channels a weight layer reads again, with no embedding table behind them. */
function isFfn(g: ChannelGroup): boolean {
  return g.kind === 'dense' && !g.attention && g.sources.length === 0 && [...g.roles.values()].includes('consumer');
}
