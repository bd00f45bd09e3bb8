import { op, type RuleTable } from './context.js';

export const samplingRules: RuleTable = {
  /** X [N, C, *in] sampled at grid [N, *out, r] → [N, C, *out]. */
  GridSample: op('T1 T2', 'T1', { align_corners: 'int', mode: 'string', padding_mode: 'string' }, (ctx) => {
    const x = ctx.shape(0);
    const grid = ctx.shape(1);
    const shape = x && grid && grid.length >= 2 ? [grid[0]!, x[1] ?? null, ...grid.slice(1, -1)] : undefined;
    return [{ elemType: ctx.type(0), shape }];
  }),
  /** X [N, C, H, W], rois [R, 4] → [R, C, output_height, output_width]. */
  RoiAlign: op('T1 T1 T2', 'T1', {
    mode: 'string', output_height: 'int', output_width: 'int', sampling_ratio: 'int', spatial_scale: 'float', coordinate_transformation_mode: 'string',
  }, (ctx) => {
    const x = ctx.shape(0);
    const rois = ctx.shape(1);
    const shape = [rois?.[0] ?? null, x?.[1] ?? null, ctx.int('output_height', 1), ctx.int('output_width', 1)];
    return [{ elemType: ctx.type(0), shape }];
  }),
};
