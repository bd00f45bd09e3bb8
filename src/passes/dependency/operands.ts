import { constantSource } from '../../ir/constants.js';
import type { Node } from '../../ir/node.js';
import type { ModelFacts } from './context.js';
import type { AnalysisState, Labels } from './state.js';

/**
 * Records how to slice a constant operand (input `i` of `node`) along `axis`: directly when it is stored data
 * (initializer, Constant node, either behind Cast/Identity), or through a single-use chain of Expand / Unsqueeze /
 * Squeeze / Transpose over stored data (ViT's class token is Expand(class_token)). Returns undefined on success,
 * else why the operand cannot be sliced.
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
  if (!p || p.domain !== '' || v.isGraphOutput() || v.uses().length !== 1 || !v.shape) return what;
  const step = stepBack(p, axis, v.shape.length, facts);
  if (step === undefined) return what;
  if (step.expandEntry !== undefined) st.edits.push({ kind: 'shapeInput', node: p, input: 1, mode: 'expand' });
  if (step.axis !== undefined) {
    const inner = sliceConstantOperand(st, facts, p, 0, step.axis, labels);
    if (inner) return inner;
  }
  st.set(v, axis, labels);
  return undefined;
}

/**
 * Where output axis `axis` of a shape op comes from in its data input: `axis` there (undefined when the input is
 * broadcast along it), and whether an Expand's shape vector names the channel count (so the rewrite shrinks it).
 */
function stepBack(p: Node, axis: number, rank: number, facts: ModelFacts): { axis?: number; expandEntry?: number } | undefined {
  const x = p.input(0);
  const xr = x?.shape?.length;
  if (!x || xr === undefined) return undefined;
  switch (p.opType) {
    case 'Expand': {
      const sv = facts.constants.get(p.input(1)!);
      if (!sv) return undefined;
      const ax = axis - (rank - xr);
      const entry = axis - (rank - sv.length);
      const broadcastInput = ax < 0 || x.shape![ax] === 1;
      const named = entry >= 0 && sv[entry] !== 1;
      return { ...(broadcastInput ? {} : { axis: ax }), ...(named ? { expandEntry: entry } : {}) };
    }
    case 'Transpose': {
      const perm = p.getInts('perm') ?? Array.from({ length: xr }, (_, k) => xr - 1 - k);
      return { axis: perm[axis]! };
    }
    case 'Unsqueeze': case 'Squeeze': {
      // Map through the size-1 axes that were added or removed.
      const inShape = x.shape!;
      const outShape = p.outputs[0]?.shape;
      if (!outShape) return undefined;
      const nonUnit = (s: readonly unknown[], upto: number) => s.slice(0, upto).filter((d) => d !== 1).length;
      const k = nonUnit(outShape, axis);
      let seen = 0;
      for (let a = 0; a < inShape.length; a++) {
        if (inShape[a] === 1) continue;
        if (seen === k) return { axis: a };
        seen++;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
