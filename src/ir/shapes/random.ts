import { DataType } from '../dtype.js';
import { op, type Attrs, type RuleTable, type ShapeRule } from './context.js';

/** Random tensors shaped like the input; the dtype attribute (else the input's type) gives the element type. */
const like: ShapeRule = (ctx) => [{ elemType: ctx.int('dtype', 0) || ctx.type(0), shape: ctx.shape(0) }];
/** Random tensors with a `shape` attribute; float unless dtype says otherwise. */
const shaped: ShapeRule = (ctx) => [{ elemType: ctx.int('dtype', DataType.FLOAT), shape: ctx.ints('shape') }];

const UNIFORM: Attrs = { dtype: 'int', high: 'float', low: 'float', seed: 'float' };
const NORMAL: Attrs = { dtype: 'int', mean: 'float', scale: 'float', seed: 'float' };

export const randomRules: RuleTable = {
  Bernoulli: op('T1', 'T2', { dtype: 'int', seed: 'float' }, like),
  RandomUniformLike: op('T1', 'T2', UNIFORM, like),
  RandomNormalLike: op('T1', 'T2', NORMAL, like),
  RandomUniform: op('', 'T', { ...UNIFORM, shape: 'ints' }, shaped),
  RandomNormal: op('', 'T', { ...NORMAL, shape: 'ints' }, shaped),
};
