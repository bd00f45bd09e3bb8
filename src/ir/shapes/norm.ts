import { DataType } from '../dtype.js';
import type { RuleTable } from './context.js';
import { normalizeAxis } from './dims.js';
import { sameAsInput } from './elementwise.js';

export const normRules: RuleTable = {
  /** Y is X; the optional training outputs (running / saved mean and variance) are per channel, shaped like scale. */
  BatchNormalization(ctx) {
    const stats = { elemType: ctx.type(3) ?? ctx.type(0), shape: ctx.shape(1) };
    return [{ elemType: ctx.type(0), shape: ctx.shape(0) }, stats, stats, stats, stats];
  },
  InstanceNormalization: sameAsInput,
  GroupNormalization: sameAsInput,
  MeanVarianceNormalization: sameAsInput,
  LpNormalization: sameAsInput,
  LRN: sameAsInput,

  /** Y is X; Mean and InvStdDev keep the axes before `axis` and are 1 on the normalized ones. */
  LayerNormalization(ctx) {
    const x = ctx.shape(0);
    const axis = x ? normalizeAxis(ctx.int('axis', -1), x.length) : undefined;
    const statShape = x && axis !== undefined ? x.map((d, i) => (i < axis ? d : 1)) : undefined;
    const stats = { elemType: ctx.int('stash_type', DataType.FLOAT), shape: statShape };
    return [{ elemType: ctx.type(0), shape: x }, stats, stats];
  },
};
