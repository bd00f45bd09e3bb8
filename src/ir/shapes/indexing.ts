import { DataType } from '../dtype.js';
import type { Dim, Shape } from '../value.js';
import { op, type OutputInfo, type RuleContext, type RuleTable, type ShapeRule } from './context.js';
import { sliceValues } from './valueOps.js';
import { addToDim, isKnown, mergeDim, normalizeAxes, normalizeAxis, productDims, sumDims } from './dims.js';

/** Slice ends at or beyond this mean "to the end" (exporters write INT64_MAX or INT32_MAX). */
const TO_END = 2 ** 31 - 1;

/** Where Slice starts along one axis of known size, and how many elements it picks, as ONNX clamps them. */
function sliceRange(dim: number, start: number, end: number, step: number): { first: number; count: number } {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return { first: s, count: Math.max(Math.ceil((e - s) / step), 0) };
}

/** Slice's size along an axis; a symbolic dim survives only a full forward slice. */
function sliceDim(dim: Dim, start: number, end: number, step: number): Dim {
  if (isKnown(dim)) return step === 0 ? null : sliceRange(dim, start, end, step).count;
  return step === 1 && start === 0 && end >= TO_END ? dim : null;
}

function slice(ctx: RuleContext) {
  const elemType = ctx.type(0);
  const x = ctx.shape(0);
  if (!x) return [{ elemType }];
  const legacy = ctx.opset < 10;
  if (!legacy) for (const [i, what] of [[1, 'starts'], [2, 'ends'], [3, 'axes'], [4, 'steps']] as const) ctx.operandRank(i, 1, 1, what);
  const starts = legacy ? ctx.ints('starts') : ctx.numbers(1);
  const ends = legacy ? ctx.ints('ends') : ctx.numbers(2);
  const axesArg = legacy ? ctx.ints('axes') : ctx.has(3) ? ctx.numbers(3) ?? null : undefined;
  const stepsArg = legacy ? undefined : ctx.has(4) ? ctx.numbers(4) ?? null : undefined;
  if (starts && ends && starts.length !== ends.length) ctx.invalid(`starts [${starts.join(', ')}] and ends [${ends.join(', ')}] differ in length`);
  if (stepsArg?.includes(0)) ctx.invalid('a slice step is 0');
  // Bounds known only at run time (GPT-2's causal mask sliced to the sequence): axes not sliced keep their dims.
  if (!starts || !ends || axesArg === null || starts.length !== ends.length) return [{ elemType, shape: x.map((d, a) => (axesArg && !axesArg.some((k) => normalizeAxis(k, x.length) === a) ? d : null)) }];
  const axes = ctx.axes(axesArg ?? starts.map((_, i) => i), x.length);
  if (axes && (axes.length !== starts.length || (stepsArg && stepsArg.length !== starts.length)))
    ctx.invalid(`axes [${axes.join(', ')}]${stepsArg ? ` and steps [${stepsArg.join(', ')}]` : ''} should have one entry per start (${starts.length})`);
  if (!axes || axes.length !== starts.length) return [{ elemType }];
  const shape: Dim[] = [...x];
  axes.forEach((a, i) => { shape[a] = stepsArg === null ? null : sliceDim(x[a]!, starts[i]!, ends[i]!, stepsArg?.[i] ?? 1); });
  // Contents: slices of a known vector (Shape → Slice picks dims out of a shape).
  const v = ctx.value(0);
  let value: Dim[] | undefined;
  if (v && x.every(isKnown) && stepsArg !== null && !stepsArg?.includes(0)) {
    const dims = x as number[];
    const first = dims.map(() => 0);
    const step = dims.map(() => 1);
    const outDims = [...dims];
    axes.forEach((a, i) => {
      step[a] = stepsArg?.[i] ?? 1;
      const r = sliceRange(dims[a]!, starts[i]!, ends[i]!, step[a]!);
      first[a] = r.first;
      outDims[a] = r.count;
    });
    value = sliceValues(v, dims, outDims, first, step);
  }
  return [{ elemType, shape, value }];
}

function concat(ctx: RuleContext) {
  const elemType = ctx.type(0);
  const shapes = ctx.node.inputs.map((_, i) => ctx.shape(i));
  const rank = shapes.find((s) => s)?.length;
  if (rank !== undefined && shapes.some((s) => s && s.length !== rank))
    ctx.invalid(`inputs of different ranks: ${shapes.map((s) => (s ? `[${s.join(', ')}]` : '?')).join(', ')}`);
  const axisAttr = ctx.node.getInt('axis');
  if (axisAttr === undefined && ctx.opset >= 4) ctx.invalid('the axis attribute is required');
  const axis = rank === undefined ? undefined : ctx.axis(axisAttr ?? 1, rank);
  if (rank === undefined || shapes.some((s) => !s || s.length !== rank)) return [{ elemType, shape: rank === undefined ? undefined : new Array<Dim>(rank).fill(null) }];
  if (axis === undefined) return [{ elemType }];
  for (let i = 0; i < rank; i++) {
    const sizes = new Set(shapes.map((s) => s![i]).filter(isKnown));
    if (i !== axis && sizes.size > 1) ctx.invalid(`inputs disagree on axis ${i} (sizes ${[...sizes].join(', ')}), which is not the concatenation axis ${axis}`);
  }
  const shape = shapes[0]!.map((_, i) =>
    i === axis ? sumDims(shapes.map((s) => s![i]!)) : shapes.map((s): Dim => s![i]!).reduce(mergeDim));
  const values = ctx.node.inputs.map((_, i) => ctx.value(i));
  const value = rank === 1 && values.every((v) => v) ? values.flatMap((v) => v!) : undefined;
  return [{ elemType, shape, value }];
}

/** Split sizes: given (attribute before opset 13, input after), or equal parts (rounded up with num_outputs). */
function split(ctx: RuleContext) {
  const elemType = ctx.type(0);
  const count = ctx.node.outputs.length;
  const x = ctx.shape(0);
  const axis = x ? ctx.axis(ctx.int('axis', 0), x.length) : undefined;
  if (!x || axis === undefined) return new Array<OutputInfo>(count).fill({ elemType });
  const sizesArg = ctx.intsArg('split', 1, 13);
  if (ctx.opset >= 13) ctx.operandRank(1, 1, 1, 'split');
  const d = x[axis]!;
  if (sizesArg && (sizesArg.some((n) => n < 0) || (isKnown(d) && sizesArg.reduce((a, b) => a + b, 0) !== d)))
    ctx.invalid(`split sizes [${sizesArg.join(', ')}] do not add up to the ${d} entries of axis ${axis}`);
  if (sizesArg && sizesArg.length !== count) ctx.invalid(`${sizesArg.length} split sizes for ${count} outputs`);
  let sizes: Dim[];
  if (sizesArg === null) sizes = new Array<Dim>(count).fill(null);
  else if (sizesArg) sizes = sizesArg.length === count ? sizesArg : new Array<Dim>(count).fill(null);
  else if (!isKnown(d)) sizes = new Array<Dim>(count).fill(null);
  else if (ctx.opset >= 18 && ctx.node.getInt('num_outputs') !== undefined) {
    const chunk = Math.ceil(d / count);
    sizes = Array.from({ length: count }, (_, i) => (i < count - 1 ? chunk : d - chunk * (count - 1)));
  } else sizes = new Array<Dim>(count).fill(d % count === 0 ? d / count : null);
  const v = ctx.value(0);
  let offset = 0;
  return sizes.map((size) => {
    const shape = x.map((dim, i) => (i === axis ? size : dim));
    const value = v && x.length === 1 && isKnown(size) && sizes.every(isKnown) ? v.slice(offset, offset + size) : undefined;
    if (isKnown(size)) offset += size;
    return { elemType, shape, value };
  });
}

/** Gather: data[:axis] + indices.shape + data[axis+1:]; folds picks from a known vector or rows along axis 0. */
function gather(ctx: RuleContext) {
  const elemType = ctx.type(0);
  const data = ctx.shape(0);
  const indices = ctx.shape(1);
  const axis = data ? ctx.axis(ctx.int('axis', 0), data.length) : undefined;
  if (!data || !indices || axis === undefined) return [{ elemType }];
  const shape = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
  const v = ctx.value(0);
  const idx = ctx.numbers(1);
  const size = data[axis];
  const outside = isKnown(size) ? idx?.find((i) => i < -size || i >= size) : undefined;
  if (outside !== undefined) ctx.invalid(`index ${outside} is out of range for axis ${axis} of size ${size}`);
  const rows = data[0];
  let value: Dim[] | undefined;
  if (v && idx && axis === 0 && isKnown(rows) && rows > 0 && v.length % rows === 0) {
    const inner = v.length / rows;
    const picked = idx.map((i) => (i < 0 ? i + rows : i));
    if (picked.every((i) => i >= 0 && i < rows)) value = picked.flatMap((i) => v.slice(i * inner, (i + 1) * inner));
  }
  return [{ elemType, shape, value }];
}

function gatherND(ctx: RuleContext) {
  const data = ctx.shape(0);
  const indices = ctx.shape(1);
  const batch = ctx.int('batch_dims', 0);
  const last = indices?.[indices.length - 1];
  const shape = data && indices && isKnown(last) ? [...indices.slice(0, -1), ...data.slice(batch + last)] : undefined;
  return [{ elemType: ctx.type(0), shape }];
}

/** Pad: pads (attribute before opset 11, input after; `axes` input from 18) grow each axis by begin + end. */
function pad(ctx: RuleContext) {
  const elemType = ctx.type(0);
  const x = ctx.shape(0);
  if (!x) return [{ elemType }];
  if (ctx.opset >= 11) {
    ctx.operandRank(1, 1, 1, 'pads');
    ctx.operandRank(3, 1, 1, 'axes');
  }
  const pads = ctx.opset < 11 ? ctx.ints(ctx.opset < 2 ? 'paddings' : 'pads') : ctx.numbers(1);
  const axesArg = ctx.opset >= 18 && ctx.has(3) ? ctx.numbers(3) ?? null : undefined;
  const axes = axesArg === undefined ? x.map((_, i) => i) : axesArg === null ? undefined : normalizeAxes(axesArg, x.length);
  if (pads && axes && pads.length !== 2 * axes.length) ctx.invalid(`pads [${pads.join(', ')}] should have ${2 * axes.length} entries`);
  if (!pads || !axes || pads.length !== 2 * axes.length) return [{ elemType, shape: x.map(() => null) }];
  const shape: Dim[] = [...x];
  axes.forEach((a, i) => { shape[a] = addToDim(x[a]!, pads[i]! + pads[i + axes.length]!); });
  return [{ elemType, shape }];
}

const likeData: ShapeRule = (ctx) => [{ elemType: ctx.type(0), shape: ctx.shape(0) }];

/** An axis attribute of input 0 (GatherElements, Scatter*), checked; the output is shaped like input `like`. */
function alongAxis(like: number): ShapeRule {
  return (ctx) => {
    const rank = ctx.rank(0);
    if (rank) ctx.axis(ctx.int('axis', 0), rank);
    return [{ elemType: ctx.type(0), shape: ctx.shape(like) }];
  };
}

export const indexingRules: RuleTable = {
  Slice: op('T Tind=int32|int64? Tind? Tind? Tind?', 'T', { starts: 'ints', ends: 'ints', axes: 'ints' }, slice),
  Concat: op('T...', 'T', { axis: 'int' }, concat),
  Split: op('T T1?', 'T...', { axis: 'int', split: 'ints', num_outputs: 'int' }, split),
  Gather: op('T Tind=int32|int64', 'T', { axis: 'int' }, gather),
  GatherElements: op('T Tind=int32|int64', 'T', { axis: 'int' }, alongAxis(1)),
  GatherND: op('T int64', 'T', { batch_dims: 'int' }, gatherND),
  Scatter: op('T Tind=int32|int64 T', 'T', { axis: 'int' }, alongAxis(0)),
  ScatterElements: op('T Tind=int32|int64 T', 'T', { axis: 'int', reduction: 'string' }, alongAxis(0)),
  ScatterND: op('T int64 T', 'T', { reduction: 'string' }, likeData),
  Pad: op('T int64? T? Tind=int32|int64?', 'T', { mode: 'string', pads: 'ints', paddings: 'ints', value: 'float' }, pad),
  NonZero: op('T', 'int64', {}, (ctx) => [{ elemType: DataType.INT64, shape: [ctx.rank(0) ?? null, null] }]),
  NonMaxSuppression: op('float float int64? float? float?', 'int64', { center_point_box: 'int' }, () => [{ elemType: DataType.INT64, shape: [null, 3] }]),
  /** Data-dependent sizes: Y (flattened unless an axis is given), indices, inverse_indices, counts. */
  Unique: op('T', 'T int64? int64? int64?', { axis: 'int', sorted: 'int' }, (ctx) => {
    const x = ctx.shape(0);
    const axisAttr = ctx.node.getInt('axis');
    const axis = x && axisAttr !== undefined ? ctx.axis(axisAttr, x.length) : undefined;
    const y: Shape | undefined = axisAttr === undefined ? [null] : x && axis !== undefined ? x.map((d, i) => (i === axis ? null : d)) : undefined;
    const index = { elemType: DataType.INT64, shape: [null] };
    // One inverse index per input element (per slice along the axis).
    const inverse: Dim = axisAttr === undefined ? (x ? productDims(x) : null) : axis !== undefined ? x![axis]! : null;
    return [{ elemType: ctx.type(0), shape: y }, index, { elemType: DataType.INT64, shape: [inverse] }, index];
  }),
  /** Without an axis the input is flattened first. */
  Compress: op('T bool', 'T', { axis: 'int' }, (ctx) => {
    const x = ctx.shape(0);
    const axisAttr = ctx.node.getInt('axis');
    const axis = x && axisAttr !== undefined ? ctx.axis(axisAttr, x.length) : undefined;
    const shape: Shape | undefined = axisAttr === undefined ? [null] : x && axis !== undefined ? x.map((d, i) => (i === axis ? null : d)) : undefined;
    return [{ elemType: ctx.type(0), shape }];
  }),
};
