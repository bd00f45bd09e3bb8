import { DataType } from '../dtype.js';
import type { RuleTable, ShapeRule } from './context.js';

/** Random tensors shaped like the input; the dtype attribute (else the input's type) gives the element type. */
const like: ShapeRule = (ctx) => [{ elemType: ctx.int('dtype', 0) || ctx.type(0), shape: ctx.shape(0) }];
/** Random tensors with a `shape` attribute; float unless dtype says otherwise. */
const shaped: ShapeRule = (ctx) => [{ elemType: ctx.int('dtype', DataType.FLOAT), shape: ctx.ints('shape') }];

export const randomRules: RuleTable = {
  Bernoulli: like,
  RandomUniformLike: like,
  RandomNormalLike: like,
  RandomUniform: shaped,
  RandomNormal: shaped,
};
