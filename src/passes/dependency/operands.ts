import { constantSource } from '../../ir/constants.js';
import type { Node } from '../../ir/node.js';
import type { ModelFacts } from './context.js';
import type { AnalysisState, Labels } from './state.js';

/**
 * Records how to slice a constant operand (input `i` of `node`) along `axis`: directly when it is stored data
 * (initializer, Constant node, either behind Cast/Identity), or through a single-use chain of ops whose rule says
 * where an output axis comes from (`ChannelRule.back`: Expand, Transpose, Squeeze, Unsqueeze) over stored data
 * (ViT's class token is Expand(class_token)). Returns undefined on success, else why the operand cannot be sliced.
 */
export function sliceConstantOperand(st: AnalysisState, facts: ModelFacts, node: Node, i: number, axis: number, labels: Labels): string | undefined {
  const v = node.input(i);
  if (!v) return `input ${i} is missing`;
  const src = constantSource(v);
  if (src) {
    const d = src.tensor.dims[axis];
    if (d !== labels.length) return `input ${i} ('${v.name}') has ${d ?? 'no'} entries on axis ${axis} where ${labels.length} channels meet it`;
    st.edits.push({ kind: 'slice', node, input: i, axis, labels });
    return undefined;
  }
  const p = v.producer();
  const what = `input ${i} ('${v.name}') carries these channels but is not a constant`;
  if (!p || v.isGraphOutput() || v.uses().length !== 1 || !v.shape) return what;
  const step = facts.ruleFor(p)?.back?.(p, axis, facts);
  if (step === undefined) return what;
  if (step.edit) st.edits.push(step.edit);
  if (step.axis !== undefined) {
    const inner = sliceConstantOperand(st, facts, p, 0, step.axis, labels);
    if (inner) return inner;
  }
  st.set(v, axis, labels);
  return undefined;
}
