import type { Dim, Shape } from '../value.js';
import { op, type RuleContext, type RuleTable } from './context.js';
import { isKnown } from './dims.js';

/** floor(dim · scale) in float32, as onnx and onnxruntime compute it. */
function scaled(d: Dim, scale: number): Dim {
  if (!isKnown(d)) return scale === 1 ? d : null;
  return Math.floor(Math.fround(Math.fround(d) * Math.fround(scale)));
}

/** Output dims from per-axis scales. */
function byScales(x: Shape, axes: readonly number[], scales: readonly number[]): Shape {
  const out = [...x];
  axes.forEach((a, i) => { out[a] = scaled(x[a]!, scales[i]!); });
  return out;
}

/** Output dims from explicit sizes, honouring keep_aspect_ratio_policy (opset 18). */
function bySizes(ctx: RuleContext, x: Shape, axes: readonly number[], sizes: readonly Dim[]): Shape {
  const out = [...x];
  const policy = ctx.node.getString('keep_aspect_ratio_policy', 'stretch');
  if (policy === 'stretch') {
    axes.forEach((a, i) => { out[a] = sizes[i]!; });
    return out;
  }
  const ratios = axes.map((a, i) => { const s = sizes[i]; const d = x[a]; return isKnown(s) && isKnown(d) && d > 0 ? s / d : undefined; });
  if (ratios.some((r) => r === undefined)) return out.map((d, i) => (axes.includes(i) ? null : d));
  const scale = policy === 'not_larger' ? Math.min(...(ratios as number[])) : Math.max(...(ratios as number[]));
  axes.forEach((a) => { out[a] = Math.round(scale * (x[a] as number)); });
  return out;
}

/** Contents of an optional input, treating an empty tensor as absent; null when given but unknown. */
function optionalInput(ctx: RuleContext, i: number): Dim[] | null | undefined {
  if (!ctx.has(i)) return undefined;
  const s = ctx.shape(i);
  if (s && s.length === 1 && s[0] === 0) return undefined;
  return ctx.value(i) ?? null;
}

/**
 * Resize: scales (input 1 at opset 10, input 2 after) or sizes (input 3); `axes` attribute from opset 18.
 * Upsample: scales as an attribute (opset 7-8) or input 1 (opset 9).
 */
function resize(ctx: RuleContext) {
  const elemType = ctx.type(0);
  const x = ctx.shape(0);
  if (!x) return [{ elemType }];
  const isUpsample = ctx.node.opType === 'Upsample';
  for (let i = 1; i < ctx.node.inputs.length; i++) ctx.operandRank(i, 1, 1, ['', isUpsample ? 'scales' : ctx.opset < 11 ? 'scales' : 'roi', 'scales', 'sizes'][i]!);
  const axesAttr = ctx.opset >= 18 && !isUpsample ? ctx.ints('axes') : undefined;
  const axes = axesAttr ? ctx.axes(axesAttr, x.length) : x.map((_, i) => i);
  const unknown = x.map((d, i) => (!axes || axes.includes(i) ? null : d));
  if (!axes) return [{ elemType, shape: unknown }];
  const sizes = isUpsample ? undefined : optionalInput(ctx, 3);
  const scalesIndex = isUpsample || ctx.opset < 11 ? 1 : 2;
  const scales = isUpsample && ctx.opset < 9 ? ctx.node.getFloats('scales') : optionalInput(ctx, scalesIndex);
  for (const [list, what] of [[sizes, 'sizes'], [scales, 'scales']] as const) {
    if (list && list.length !== axes.length) ctx.invalid(`${what} has ${list.length} entries for ${axes.length} axes`);
  }
  if (sizes && sizes.length === axes.length) return [{ elemType, shape: bySizes(ctx, x, axes, sizes) }];
  // With tf_crop_and_resize the spec scales the roi's extent, where runtimes scale the whole input: leave unknown.
  const crop = ctx.node.getString('coordinate_transformation_mode', '') === 'tf_crop_and_resize';
  if (scales && scales.length === axes.length && scales.every(isKnown) && !crop) return [{ elemType, shape: byScales(x, axes, scales) }];
  return [{ elemType, shape: unknown }];
}

export const resizeRules: RuleTable = {
  Resize: op('T1 T2? float? int64?', 'T1', {
    mode: 'string', coordinate_transformation_mode: 'string', cubic_coeff_a: 'float', exclude_outside: 'int', extrapolation_value: 'float',
    nearest_mode: 'string', antialias: 'int', axes: 'ints', keep_aspect_ratio_policy: 'string',
  }, resize),
  Upsample: op('T float?', 'T', { mode: 'string', scales: 'floats', height_scale: 'float', width_scale: 'float' }, resize),
};
