import { constantNumbers, constantSource } from '../../../ir/constants.js';
import { isFloatType } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/node.js';
import type { Dim, Value } from '../../../ir/value.js';
import type { ModelFacts, NodeContext } from '../context.js';
import { normAxis } from '../context.js';
import { completeShape, mapThroughReshape } from '../reshapeMap.js';
import type { Labels } from '../state.js';
import { rule, type AxisSource, type ChannelRule, type ChannelRuleTable, type InputAxis } from './rule.js';

/** Transpose: each channel axis moves where the permutation puts it. */
function transpose(ctx: NodeContext): void {
  const traced = ctx.traced(0);
  if (!traced) return;
  const { axes, rank } = traced;
  const perm = ctx.node.getInts('perm') ?? Array.from({ length: rank }, (_, k) => rank - 1 - k);
  for (const [a, labels] of axes) ctx.setOut(0, perm.indexOf(a), labels);
}

/**
 * Reshape, Flatten, Squeeze, Unsqueeze: channels follow the flat index (see mapThroughReshape). A Reshape's shape
 * vector is rewritten from the output's new shape (a constant where it can be written as one, else only its entries
 * on the pruned axes: see inputRewrite.ts).
 */
function reshape(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  if (!axes) return;
  const x = ctx.input(0)!;
  const y = ctx.output(0);
  const inShape = x.shape;
  const outShape = x.shape && y?.shape ? completeShape(x.shape, y.shape) : undefined;
  if (!inShape || !outShape || !y) {
    ctx.declineAll(`${ctx.where}: input or output shape unknown`);
    return;
  }
  const taken = new Map<number, Labels>();
  for (const [a, labels] of axes) {
    ctx.use(labels);
    const mapped = mapThroughReshape(ctx.st, inShape, outShape, a, labels, (c) => chooseSplitAxis(ctx.facts, y, c));
    if (typeof mapped === 'string') {
      ctx.block(labels, `${ctx.where}: ${mapped}`);
      continue;
    }
    if (taken.has(mapped.axis)) {
      ctx.block(labels, `${ctx.where}: two channel axes merge into one`);
      ctx.block(taken.get(mapped.axis)!, `${ctx.where}: two channel axes merge into one`);
      continue;
    }
    taken.set(mapped.axis, mapped.labels);
  }
  if (ctx.op === 'Reshape' && taken.size) ctx.edit({ kind: 'shapeInput', node: ctx.node, input: 1, mode: 'reshape' });
  for (const [b, labels] of taken) ctx.setOut(0, b, labels);
}

/**
 * Which of the axes a channel axis splits into carries the channels. An axis that is taken apart downstream
 * (Gather / Split / Slice on it, or reshaped again: the 3 of a packed QKV [.., 3, H, d], the group count of a channel
 * shuffle) cannot; of the others the outermost wins, so attention heads are pruned whole.
 */
function chooseSplitAxis(facts: ModelFacts, y: Value, candidates: number[]): number {
  const kept = candidates.filter((b) => !takenApart(facts, y, b, 0));
  return kept[0] ?? candidates[candidates.length - 1]!;
}

/** Whether some use of `v` takes axis `axis` apart, following each op's `forward` (its rule's answer) a few steps. */
function takenApart(facts: ModelFacts, v: Value, axis: number, depth: number): boolean {
  if (depth > 8) return false;
  const rank = v.shape?.length ?? 0;
  return v.uses().some(({ node, index }) => {
    const to = facts.ruleFor(node)?.forward?.(node, { input: index, axis, rank });
    const out = node.outputs[0];
    return to === 'apart' || (to !== undefined && !!out && takenApart(facts, out, to, depth + 1));
  });
}

/** The axis of `to` that has as many non-unit axes before it as `axis` has in `from` (Squeeze / Unsqueeze). */
function acrossUnitAxes(from: readonly Dim[], to: readonly Dim[], axis: number): number | undefined {
  const before = from.slice(0, axis).filter((d) => d !== 1).length;
  let seen = 0;
  for (let k = 0; k < to.length; k++) {
    if (to[k] === 1) continue;
    if (seen === before) return k;
    seen++;
  }
  return undefined;
}

/** `forward` of ops that take apart the attribute `axis` of their data input (Gather, Split, GatherElements). */
function apartAlongAttr(node: Node, { input, axis, rank }: InputAxis): 'apart' | undefined {
  return input === 0 && normAxis(node.getInt('axis', 0), rank) === axis ? 'apart' : undefined;
}

/** `forward` of Slice: apart along any sliced axis (all of them when they are not known). */
function sliceForward(node: Node, { input, axis, rank }: InputAxis): 'apart' | undefined {
  if (input !== 0) return undefined;
  const legacy = !node.input(1);
  const starts = legacy ? node.getInts('starts') : constantNumbers(node.input(1));
  const sliced = node.input(3) ? constantNumbers(node.input(3)) : (legacy ? node.getInts('axes') : undefined) ?? starts?.map((_, k) => k);
  return !sliced || sliced.some((a) => normAxis(a, rank) === axis) ? 'apart' : undefined;
}

/** `forward` of Transpose: where the permutation puts the axis. */
function transposeForward(node: Node, { input, axis, rank }: InputAxis): number | undefined {
  if (input !== 0) return undefined;
  const perm = node.getInts('perm') ?? Array.from({ length: rank }, (_, k) => rank - 1 - k);
  const to = perm.indexOf(axis);
  return to >= 0 ? to : undefined;
}

/** `back` of Transpose. */
function transposeBack(node: Node, axis: number): AxisSource | undefined {
  const xr = node.input(0)?.shape?.length;
  if (xr === undefined) return undefined;
  const perm = node.getInts('perm') ?? Array.from({ length: xr }, (_, k) => xr - 1 - k);
  return perm[axis] === undefined ? undefined : { axis: perm[axis]! };
}

/** Squeeze / Unsqueeze: size-1 axes come and go; others map across them, both ways. */
function unitAxesForward(node: Node, { input, axis }: InputAxis): number | undefined {
  const x = node.input(0)?.shape;
  const out = node.outputs[0]?.shape;
  return input === 0 && x && out ? acrossUnitAxes(x, out, axis) : undefined;
}

function unitAxesBack(node: Node, axis: number): AxisSource | undefined {
  const x = node.input(0)?.shape;
  const out = node.outputs[0]?.shape;
  const a = x && out ? acrossUnitAxes(out, x, axis) : undefined;
  return a === undefined ? undefined : { axis: a };
}

/**
 * `back` of Expand: output axis `axis` comes from the same axis of the input, right-aligned (nowhere when the input
 * is broadcast along it); when the shape vector names the channel count there, the slice rewrites it.
 */
function expandBack(node: Node, axis: number, facts: ModelFacts): AxisSource | undefined {
  const x = node.input(0)?.shape;
  const rank = node.outputs[0]?.shape?.length;
  const sv = facts.constants.get(node.input(1)!);
  if (!x || rank === undefined || !sv) return undefined;
  const ax = axis - (rank - x.length);
  const entry = axis - (rank - sv.length);
  const broadcastInput = ax < 0 || x[ax] === 1;
  const named = entry >= 0 && sv[entry] !== 1;
  return {
    ...(broadcastInput ? {} : { axis: ax }),
    ...(named ? { edit: { kind: 'shapeInput', node, input: 1, mode: 'expand' } as const } : {}),
  };
}

/**
 * Concat: on the concatenated axis each input's channels take their offset (an untraced input's positions are new
 * classes that may never be coupled to a group); on the other axes the inputs meet position by position, an
 * untraced constant input is sliced (ViT's class token).
 */
function concat(ctx: NodeContext): void {
  const rank = ctx.rank(ctx.output(0)) ?? ctx.rank(ctx.input(0));
  const inputs = ctx.node.inputs.map((_, i) => i).filter((i) => ctx.input(i));
  if (!ctx.trackedInputs().length) return;
  if (rank === undefined) {
    ctx.declineAll(`${ctx.where}: rank unknown`);
    return;
  }
  const axis = normAxis(ctx.node.getInt('axis', 0), rank)!;
  if (inputs.some((i) => ctx.axes(i)?.has(axis)) && rotatesHalves(ctx.node)) {
    for (const i of inputs) ctx.declineAxis(i, axis, ROTARY_INSIDE_HEAD);
  } else if (inputs.some((i) => ctx.axes(i)?.has(axis))) {
    const parts: Labels[] = [];
    for (const i of inputs) {
      const own = ctx.axes(i)?.get(axis);
      if (own) {
        parts.push(ctx.use(own));
        continue;
      }
      const d = ctx.shape(ctx.input(i))?.[axis];
      if (typeof d !== 'number') {
        for (const j of inputs) ctx.declineAxis(j, axis, `size of input ${i} on the concatenated axis unknown`);
        return;
      }
      const fresh = ctx.fresh(d);
      ctx.block(fresh, `${ctx.where}: input ${i} ('${ctx.input(i)!.name}') is not traced`);
      parts.push(fresh);
    }
    const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    ctx.setOut(0, axis, out);
  }
  const meeting = new Map<number, Labels>();
  for (const i of inputs) {
    for (const [a, labels] of ctx.axes(i) ?? []) {
      if (a === axis) continue;
      const seen = meeting.get(a);
      if (!seen) meeting.set(a, labels);
      else ctx.unite(seen, labels);
    }
  }
  for (const [a, labels] of meeting) {
    for (const i of inputs) if (!ctx.axes(i)?.has(a)) ctx.slice(i, a, labels);
    ctx.setOut(0, a, labels);
  }
}

const ROTARY_INSIDE_HEAD = 'rotary embedding inside a head (rotate_half): pruning head_dim would have to drop matched '
  + 'frequency pairs in Q and K and change the 1/√d scale; whole heads leave the rotary embedding untouched';

/** rotate_half of a rotary embedding: Concat(Neg(Slice(x)), Slice(x)), both halves of one tensor. */
function rotatesHalves(node: Node): boolean {
  if (node.inputs.length !== 2) return false;
  const [a, b] = node.inputs.map((v) => v?.producer());
  const inner = a?.opType === 'Neg' ? a.input(0)?.producer() : undefined;
  return !!inner && inner.opType === 'Slice' && b?.opType === 'Slice' && !!inner.input(0) && inner.input(0) === b.input(0);
}

/** Split: along a channel axis each output takes its segment and the sizes are rewritten; other axes pass. */
function split(ctx: NodeContext): void {
  const traced = ctx.traced(0);
  if (!traced) return;
  const { axes, rank } = traced;
  const axis = normAxis(ctx.node.getInt('axis', 0), rank)!;
  const nOut = ctx.node.outputs.length;
  for (const [a, labels] of axes) {
    if (a !== axis) {
      ctx.node.outputs.forEach((_, o) => ctx.setOut(o, a, labels));
      continue;
    }
    const given = ctx.intsArg('split', 1, 13);
    let sizes: number[] | undefined = given ?? undefined;
    if (given === null) sizes = undefined;
    else if (!given?.length) {
      const each = Math.ceil(labels.length / nOut);
      sizes = Array.from({ length: nOut }, (_, o) => Math.max(0, Math.min(each, labels.length - o * each)));
    }
    if (!sizes || sizes.length !== nOut || sizes.reduce((s, n) => s + n, 0) !== labels.length) {
      ctx.block(labels, `${ctx.where}: split sizes along the channels unknown`);
      continue;
    }
    ctx.use(labels);
    const parts: Labels[] = [];
    let at = 0;
    for (const n of sizes) {
      parts.push(labels.slice(at, at + n));
      at += n;
    }
    parts.forEach((p, o) => ctx.setOut(o, a, p));
    ctx.edit({ kind: 'splitSizes', node: ctx.node, outputs: parts });
  }
}

/** Slice: along a channel axis (step 1) the kept range maps to new bounds; other axes pass. */
function slice(ctx: NodeContext): void {
  const traced = ctx.traced(0);
  if (!traced) return;
  const { axes, rank } = traced;
  const legacy = ctx.opset < 10;
  const starts = legacy ? ctx.node.getInts('starts') : ctx.numbers(ctx.input(1));
  const ends = legacy ? ctx.node.getInts('ends') : ctx.numbers(ctx.input(2));
  const sliceAxes = (legacy ? ctx.node.getInts('axes') : ctx.input(3) ? ctx.numbers(ctx.input(3)) : undefined)
    ?? starts?.map((_, k) => k);
  const steps = legacy ? undefined : ctx.input(4) ? ctx.numbers(ctx.input(4)) : undefined;
  for (const [a, labels] of axes) {
    if (!sliceAxes || (!legacy && ctx.input(3) && !ctx.numbers(ctx.input(3)))) {
      ctx.block(labels, `${ctx.where}: sliced axes unknown`);
      continue;
    }
    const entry = sliceAxes.findIndex((s) => normAxis(s, rank) === a);
    if (entry < 0) {
      ctx.setOut(0, a, labels);
      continue;
    }
    const step = steps?.[entry] ?? 1;
    if (!starts || !ends || step !== 1) {
      ctx.block(labels, `${ctx.where}: ${step !== 1 ? `step ${step}` : 'bounds not known at compile time'} along the channels`);
      continue;
    }
    ctx.use(labels);
    const d = labels.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const s = clamp(starts[entry]!);
    const e = Math.max(s, clamp(ends[entry]!));
    ctx.setOut(0, a, labels.slice(s, e));
    ctx.edit({ kind: 'sliceBounds', node: ctx.node, entry, labels, start: s, end: e, starts, ends });
  }
}

/**
 * Gather: along another axis the channels pass (shifted by the indices' rank); along a channel axis it is declined.
 * Gathering rows of a constant float table (an embedding) is a source: its columns start new channels.
 */
function gather(ctx: NodeContext): void {
  const rank = ctx.rank(ctx.input(0));
  const axis = ctx.node.getInt('axis', 0);
  const idxRank = ctx.rank(ctx.input(1));
  const table = constantSource(ctx.input(0))?.tensor;
  if (table && table.dims.length === 2 && isFloatType(table.dataType) && (axis === 0 || axis === -2) && idxRank !== undefined) {
    ctx.root(0, idxRank, table.dims[1]!, 0, 1, false);
    return;
  }
  const axes = ctx.axes(0);
  if (!axes) {
    if (ctx.axes(1)) ctx.declineAll(`${ctx.where}: channels used as indices`);
    return;
  }
  if (rank === undefined || idxRank === undefined) {
    ctx.declineAll(`${ctx.where}: rank unknown`);
    return;
  }
  const g = normAxis(axis, rank)!;
  for (const [a, labels] of axes) {
    if (a === g) ctx.block(labels, `${ctx.where}: gathers along the channels`);
    else ctx.setOut(0, a < g ? a : a + idxRank - 1, labels);
  }
}

/**
 * Expand: channel axes keep their size (the output's, as shape inference finds it, must equal the channel count:
 * repeat_kv's `Expand([b, kv, 1, t, d] → [b, kv, n_rep, t, d])` with b and t symbolic); when the shape vector
 * reaches a channel axis, its entry there is rewritten.
 */
function expand(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  if (!axes) return;
  const rank = ctx.rank(ctx.input(0));
  const outRank = ctx.rank(ctx.output(0));
  const length = ctx.shape(ctx.input(1))?.[0];
  if (rank === undefined || outRank === undefined || typeof length !== 'number') {
    ctx.declineAll(`${ctx.where}: shapes not known at compile time`);
    return;
  }
  let rewrite = false;
  for (const [a, labels] of axes) {
    const k: number = a + outRank - rank;
    if (k - (outRank - length) >= 0) rewrite = true;
    ctx.setOut(0, k, labels);
  }
  if (rewrite) ctx.edit({ kind: 'shapeInput', node: ctx.node, input: 1, mode: 'expand' });
}

/** Shape / Size: they read only dims; the rewrite makes them report the original channel counts. */
function readsShape(ctx: NodeContext): void {
  const axes = ctx.axes(0);
  if (!axes) return;
  for (const labels of axes.values()) ctx.use(labels);
  ctx.edit({ kind: 'freezeShape', node: ctx.node, axes: new Map(axes) });
}

/** GatherElements: the output follows the indices' shape, so no channel axis survives it. */
function gatherElements(ctx: NodeContext): void {
  ctx.declineAll(`${ctx.where}: the output takes the indices' shape`);
}

const RESHAPE = rule('channels follow the flat index: merged (Flatten into Gemm) or split (heads: whole heads go)', reshape, { forward: (_, at) => (at.input === 0 ? 'apart' : undefined) });
const UNIT_AXES: ChannelRule = rule('size-1 axes come and go; channels follow the flat index', reshape, { forward: unitAxesForward, back: unitAxesBack });
const READS_SHAPE = 'reports the original channel counts after pruning (shape arithmetic may feed computation)';

export const movementRules: ChannelRuleTable = {
  Concat: rule('offsets along the concatenated axis; other axes couple, constant inputs sliced', concat),
  Split: rule('segments along a channel axis, sizes rewritten', split, { forward: apartAlongAttr }),
  Slice: rule('step-1 range along a channel axis, bounds rewritten', slice, { forward: sliceForward }),
  Gather: rule('passes other axes; a constant float table is a source', gather, { forward: apartAlongAttr }),
  GatherElements: rule('output shaped like the indices: declined', gatherElements, { forward: apartAlongAttr }),
  Transpose: rule('channel axes follow the permutation', transpose, { forward: transposeForward, back: transposeBack }),
  Reshape: RESHAPE,
  Flatten: RESHAPE,
  Squeeze: UNIT_AXES,
  Unsqueeze: UNIT_AXES,
  Expand: rule('channel axes keep their size; a shape vector naming them is rewritten', expand, { back: expandBack }),
  Shape: rule(READS_SHAPE, readsShape),
  Size: rule('reports the original element count after pruning', readsShape),
};
