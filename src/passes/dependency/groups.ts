import { constantSource } from '../../ir/constants.js';
import { macsPerWeightElement } from '../../ir/stats.js';
import type { Node } from '../../ir/node.js';
import type { Value } from '../../ir/value.js';
import { UnionFind } from './unionFind.js';
import type { AnalysisState, Labels, Role, Root } from './state.js';

/** A producer's output channels and the group unit each belongs to. */
export interface ProducerChannels {
  readonly node: Node;
  readonly output: Value;
  /** Axis of `output` that holds the channels; -1 when they are not one output axis (a packed QKV, a consumer). */
  readonly axis: number;
  /** Unit (index into the group's channels) of each output channel of the node. */
  readonly unitOf: Int32Array;
  /** Constant input holding the output-channel vectors, and the axis that indexes output channels there. */
  readonly weight: { readonly input: number; readonly axis: number };
}

/**
 * A set of channels that must shrink together. Its units (`channels` of them) are what can be kept or dropped: one
 * output channel of each coupled producer, or a whole attention head / normalization group when those are tied.
 */
export interface ChannelGroup {
  readonly id: number;
  /** Number of units (usually the producers' output channels). */
  readonly channels: number;
  /** Roots whose output channels define the group (Conv, ConvTranspose, Gemm, MatMul with a constant weight). */
  readonly producers: Node[];
  /** Gemm/MatMul roots only ('dense') or any Conv/ConvTranspose root ('conv'), for --scope. */
  readonly kind: 'dense' | 'conv';
  /** Readable chain: `conv1 → bn1 → relu → {conv2.in, conv3.in}`. */
  readonly members: string;
  readonly prunable: boolean;
  /** Why it is declined: names the op and node. */
  readonly reason?: string;
  /** Elements of the constants the group slices (weights, biases, norm parameters), counted per governed channel. */
  readonly params: number;
  /** Multiply-accumulates of the weight layers it slices, for one sample. */
  readonly macs: number;
  /** Per producer: which unit each output channel belongs to. */
  readonly producerChannels: ProducerChannels[];
  /**
   * Attention groups: the output projections that read the heads (their weight rows per unit), scored with the
   * producers, so a head's vector is its Q, K, V columns and its O rows. Empty for other groups.
   */
  readonly consumerChannels: ProducerChannels[];
  /** Sources (constant embedding tables gathered from): sliced with the group, not scored. */
  readonly sources: Node[];
  readonly sourceChannels: ProducerChannels[];
  /**
   * Unit sets that must each keep at least one unit, besides the whole group: a tensor that carries only some of
   * the group's units (a Split or Slice segment, one producer of a group spanning a Concat) would otherwise be left
   * with no channels, which `pruneChannels` rejects. Minimal sets only; empty for most groups.
   */
  readonly nonEmpty: number[][];
  /** The analysis class of each unit (internal: the rewrite keeps classes). */
  readonly unitClasses: Int32Array;
  /** Member nodes and their roles, in graph order. */
  readonly roles: ReadonlyMap<Node, Role>;
  /**
   * Attention groups (heads meet on a batch axis of Q·Kᵀ, or a fused attention op): `queryHeads` query heads in
   * `channels` units, so a unit is one head (MHA) or one KV group of queryHeads / channels query heads (GQA).
   */
  readonly attention?: { readonly queryHeads: number };
  /**
   * A residual stream: channels of different producers are added position by position (a residual Add,
   * SkipLayerNormalization); the label of the first node that adds them.
   */
  readonly residual?: string;
}

/** Classes → groups: the connected sets of classes reached from roots. Labels are already canonical class ids. */
export function formGroups(st: AnalysisState, classCount: number): { groups: ChannelGroup[]; classGroup: Int32Array } {
  // Classes of one root belong to one group; a class shared by two roots joins their groups.
  const link = new UnionFind();
  link.add(classCount);
  for (const r of st.roots) for (let j = 1; j < r.labels.length; j++) link.union(r.labels[0]!, r.labels[j]!);

  const byRep = new Map<number, Root[]>();
  for (const r of st.roots) {
    if (!r.labels.length) continue;
    const rep = link.find(r.labels[0]!);
    (byRep.get(rep) ?? byRep.set(rep, []).get(rep)!).push(r);
  }
  // Channels only constant tables start (rotary cos/sin tables gathered by position, meeting the inside of attention
  // heads) have nothing to score and nothing that could be removed with them: no group.
  const rootsOf = [...byRep.values()].filter((roots) => roots.some((r) => r.scoring));

  const classGroup = new Int32Array(classCount).fill(-1);
  const classUnit = new Int32Array(classCount).fill(-1);
  const unitClasses: number[][] = rootsOf.map(() => []);
  rootsOf.forEach((roots, g) => {
    for (const r of roots) for (const c of r.labels) {
      if (classGroup[c] !== -1) continue;
      classGroup[c] = g;
      classUnit[c] = unitClasses[g]!.length;
      unitClasses[g]!.push(c);
    }
  });

  const reasons = rootsOf.map(() => new Set<string>());
  for (const b of st.blocks) for (const g of groupsIn(b.labels, classGroup)) reasons[g]!.add(b.reason);

  const roles = rootsOf.map(() => new Map<Node, Role>());
  for (const t of st.touches) {
    for (const g of groupsIn(t.labels, classGroup)) {
      const m = roles[g]!;
      const had = m.get(t.node);
      // A node both consuming and producing (every conv in a chain) is shown by its strongest role here.
      if (!had || rank(t.role) > rank(had)) m.set(t.node, t.role);
    }
  }
  const residual = rootsOf.map((): string | undefined => undefined);
  for (const s of st.sums) for (const g of groupsIn(s.labels, classGroup)) residual[g] ??= s.node.label;
  const { params, macs } = governed(st, classGroup, rootsOf.length);
  const queryHeads = rootsOf.map(() => 0);
  for (const h of st.heads) for (const g of groupsIn(h.labels, classGroup)) queryHeads[g] = Math.max(queryHeads[g]!, h.labels.length);
  const nonEmpty = partialAxes(st, classGroup, classUnit, unitClasses.map((u) => u.length));
  const channelsOf = (r: Root): ProducerChannels => ({
    node: r.node, output: r.output, axis: r.axis, weight: r.weight, unitOf: Int32Array.from(r.labels, (c) => classUnit[c]!),
  });

  const groups = rootsOf.map((roots, g): ChannelGroup => {
    const producers = roots.filter((r) => r.scoring);
    const units = unitClasses[g]!;
    let reason = [...reasons[g]!].slice(0, 3).join('; ') || undefined;
    if (!reason && units.length < 2) {
      reason = roots.every((r) => r.labels.length === 1) ? 'a single channel, which cannot be removed'
        : 'all its channels are coupled into one unit, which cannot be removed';
    }
    return {
      id: g,
      channels: units.length,
      producers: producers.map((r) => r.node),
      kind: producers.some((r) => r.node.opType === 'Conv' || r.node.opType === 'ConvTranspose') ? 'conv' : 'dense',
      members: '',
      prunable: reason === undefined,
      ...(reason ? { reason } : {}),
      params: params[g]!,
      macs: macs[g]!,
      producerChannels: producers.map(channelsOf),
      consumerChannels: queryHeads[g] ? outputProjections(st, g, classGroup, classUnit, roles[g]!) : [],
      sources: roots.filter((r) => !r.scoring).map((r) => r.node),
      sourceChannels: roots.filter((r) => !r.scoring).map(channelsOf),
      unitClasses: Int32Array.from(units),
      nonEmpty: nonEmpty[g]!,
      roles: roles[g]!,
      ...(queryHeads[g] ? { attention: { queryHeads: queryHeads[g]! } } : {}),
      ...(residual[g] !== undefined ? { residual: residual[g] } : {}),
    };
  });
  return { groups, classGroup };
}

/** The weight layers consuming group `g` (input 1, a constant sliced along its input features), as scoring rows. */
function outputProjections(st: AnalysisState, g: number, classGroup: Int32Array, classUnit: Int32Array, roles: ReadonlyMap<Node, Role>): ProducerChannels[] {
  const out: ProducerChannels[] = [];
  for (const e of st.edits) {
    if (e.kind !== 'slice' || e.input !== 1 || roles.get(e.node) !== 'consumer' || classGroup[e.labels[0]!] !== g) continue;
    const output = e.node.outputs[0];
    if (!output || !constantSource(e.node.input(1)) || out.some((p) => p.node === e.node)) continue;
    out.push({ node: e.node, output, axis: -1, weight: { input: 1, axis: e.axis }, unitOf: Int32Array.from(e.labels, (c) => classUnit[c]!) });
  }
  return out;
}

function rank(r: Role): number {
  return r === 'producer' ? 3 : r === 'source' ? 2 : r === 'consumer' ? 1 : 0;
}

/** Distinct groups the classes of `labels` belong to. */
function groupsIn(labels: Labels, classGroup: Int32Array): number[] {
  const out: number[] = [];
  let last = -2;
  for (const c of labels) {
    const g = classGroup[c]!;
    if (g === last || g < 0) continue;
    last = g;
    if (!out.includes(g)) out.push(g);
  }
  return out;
}

/** Params and MACs each group governs, from the constant slices it implies (MACs counted by ir/stats.ts). */
function governed(st: AnalysisState, classGroup: Int32Array, n: number): { params: number[]; macs: number[] } {
  const params = new Array<number>(n).fill(0);
  const macs = new Array<number>(n).fill(0);
  for (const e of st.edits) {
    if (e.kind !== 'slice') continue;
    const t = constantSource(e.node.input(e.input))?.tensor;
    if (!t) continue;
    const dims = t.dims;
    const perPosition = t.numel / (dims[e.axis] || 1);
    // Input 1 of a weight layer is its weight; biases and other per-channel constants cost no MACs.
    const perElement = e.input === 1 ? macsPerWeightElement(e.node) ?? 0 : 0;
    const counts = new Map<number, number>();
    for (const c of e.labels) {
      const g = classGroup[c]!;
      if (g >= 0) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    for (const [g, k] of counts) {
      params[g]! += k * perPosition;
      macs[g]! += k * perPosition * perElement;
    }
  }
  return { params, macs };
}

/** Per group, the minimal unit sets some tracked axis carries alone (see ChannelGroup.nonEmpty). */
function partialAxes(st: AnalysisState, classGroup: Int32Array, classUnit: Int32Array, sizes: number[]): number[][][] {
  const found = sizes.map(() => new Map<string, number[]>());
  const seen = new Set<Labels>();
  for (const axes of st.tracked.values()) {
    for (const labels of axes.values()) {
      if (seen.has(labels)) continue;
      seen.add(labels);
      const per = new Map<number, Set<number>>();
      for (const c of labels) {
        const g = classGroup[c]!;
        if (g < 0) continue;
        let s = per.get(g);
        if (!s) per.set(g, (s = new Set()));
        s.add(classUnit[c]!);
      }
      for (const [g, s] of per) {
        if (s.size === sizes[g]) continue;
        const units = [...s].sort((a, b) => a - b);
        found[g]!.set(units.join(','), units);
      }
    }
  }
  return found.map((m) => {
    const sets = [...m.values()].sort((a, b) => a.length - b.length);
    const minimal: number[][] = [];
    for (const s of sets) if (!minimal.some((t) => t.every((u) => s.includes(u)))) minimal.push(s);
    return minimal;
  });
}
