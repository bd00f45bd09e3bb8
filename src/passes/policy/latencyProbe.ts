import { DataType } from '../../ir/dtype.js';
import { decodeModel } from '../../ir/load.js';
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { encodeModel } from '../../ir/save.js';
import { inferShapes } from '../../ir/shapeInference.js';
import type { Value } from '../../ir/value.js';
import { analyze } from '../dependency/analyze.js';
import type { ChannelGroup } from '../dependency/groups.js';
import { pruneChannels } from '../pruneChannels.js';
import type { CostProbe } from './latencyTable.js';

/**
 * A group's latency probe. Its cost is measured on its *sub-graph*: the nodes its channels touch (producers, the
 * ops they flow through, consumers) cut out of the model, with the tensors entering from elsewhere as inputs. Only
 * those nodes change when the group shrinks, and a sub-graph runs in a fraction of the model's time, so the saving
 * stands out of the timing noise far better than in the whole model; the layout conversions onnxruntime adds at the
 * sub-graph's edges carry other groups' channels, so they cost the same at every width and cancel in the saving.
 * When the cut is impossible (an integer or unknown-shaped tensor enters, a member holds a subgraph) the probe
 * times the whole model with only this group cut instead.
 */
export function groupProbe(original: Uint8Array, model: Model, group: ChannelGroup, widths: readonly number[], baseDir: string): Probe {
  const cut = cutter(original, model, [group], baseDir);
  return {
    key: probeKey(group), units: group.channels, widths,
    build: (units) => cut.build([units]),
    get scope() {
      return cut.scope;
    },
  };
}

/**
 * The probe of two groups that share nodes (a conv between them shrinks on both sides): its one point (units 0)
 * is the saving with `a` cut to `wa` and `b` to `wb` together, on the sub-graph of both; the full width is units 1.
 * With each group's own saving it gives their interaction (see pairInteraction).
 */
export function pairProbe(original: Uint8Array, model: Model, a: ChannelGroup, wa: number, b: ChannelGroup, wb: number, baseDir: string): Probe {
  const cut = cutter(original, model, [a, b], baseDir);
  return {
    key: pairKey(probeKey(a), wa, probeKey(b), wb), units: 1, widths: [0],
    build: (units) => cut.build(units === 0 ? [wa, wb] : [a.channels, b.channels]),
    get scope() {
      return cut.scope;
    },
  };
}

export function pairKey(a: string, wa: number, b: string, wb: number): string {
  return `${a}@${wa} & ${b}@${wb}`;
}

export type Probe = CostProbe & { readonly scope: 'sub-graph' | 'whole model' | undefined };

/** Builds models with the given groups cut to given widths, on their joint sub-graph when one can be cut out. */
function cutter(original: Uint8Array, model: Model, groups: readonly ChannelGroup[], baseDir: string): { build(units: readonly number[]): Model; readonly scope: Probe['scope'] } {
  const index = new Map(model.graph.nodes.map((n, i) => [n, i]));
  const members = new Set(groups.flatMap((g) => [...g.roles.keys()]).map((n) => index.get(n)).filter((i): i is number => i !== undefined));
  const names = groups.map((g) => g.producers.map((n) => n.name).sort().join('\n'));
  const find = (m: Model): (ChannelGroup | undefined)[] => {
    const all = analyze(m);
    return groups.map((g, i) => all.find((x) => x.prunable && x.channels === g.channels && x.producers.map((n) => n.name).sort().join('\n') === names[i]));
  };
  // Cut on first use: a lookup table that already holds every width never needs it.
  let sub: Uint8Array | undefined | null = null;
  const subOf = (): Uint8Array | undefined => {
    if (sub !== null) return sub;
    sub = subModel(original, members, baseDir);
    // The cut must leave the groups whole and prunable (it does unless shape arithmetic hides something).
    if (sub && find(decodeModel(sub, { baseDir })).some((g) => !g)) sub = undefined;
    return sub;
  };
  return {
    build(units) {
      const cut = subOf();
      const m = decodeModel(cut ?? original, { baseDir });
      const found = cut ? find(m) : groups.map((g) => analyze(m)[g.id]);
      const keep = new Map<number, number[]>();
      groups.forEach((g, i) => {
        if (units[i]! < g.channels) keep.set(found[i]!.id, firstUnits(found[i]!, units[i]!));
      });
      return keep.size ? pruneChannels(m, keep) : m;
    },
    get scope() {
      return sub === null ? undefined : sub ? 'sub-graph' : 'whole model';
    },
  };
}

/** The lookup-table key of a group: its producers' names and width (stable for one model file). */
export function probeKey(group: ChannelGroup): string {
  return `${group.producers.map((n) => n.name || n.label).join('+')}/${group.channels}`;
}

/** `units` units for a timing cut (which ones does not change the speed), one from every set that must keep one. */
function firstUnits(g: ChannelGroup, units: number): number[] {
  const keep = new Set<number>();
  for (const set of g.nonEmpty) if (!set.some((u) => keep.has(u))) keep.add(set[0]!);
  for (let u = 0; keep.size < units && u < g.channels; u++) keep.add(u);
  return [...keep].sort((a, b) => a - b);
}

/**
 * The encoded model made of the nodes at `members` (indices into the graph's node list) plus, for every non-float
 * tensor they read (shape arithmetic), the nodes computing it; float tensors entering from other nodes become graph
 * inputs, tensors leaving become outputs. Undefined when that cannot make a runnable model.
 */
function subModel(original: Uint8Array, members: ReadonlySet<number>, baseDir: string): Uint8Array | undefined {
  const m = decodeModel(original, { baseDir });
  inferShapes(m);
  const g = m.graph;
  const needed = new Set<Node>(g.nodes.filter((_, i) => members.has(i)));
  const boundary = new Set<Value>();
  const work = [...needed];
  while (work.length) {
    const n = work.pop()!;
    if (n.subgraphs.size > 0) return undefined;
    for (const v of n.inputs) {
      const p = v?.producer();
      if (!v || !p || needed.has(p)) continue;
      if (v.elemType === DataType.FLOAT) boundary.add(v);
      else {
        needed.add(p);
        work.push(p);
      }
    }
  }
  // Every entering tensor needs a known shape (a symbolic batch dim is fed like the model's own input).
  for (const v of boundary) if (!v.shape || v.shape.slice(1).some((d) => typeof d !== 'number')) return undefined;
  const outputs = [...needed].flatMap((n) => n.outputs.filter((o): o is Value => !!o && (o.isGraphOutput() || o.uses().some((u) => !needed.has(u.node)))));
  if (outputs.length === 0) return undefined;
  g.outputs = outputs;
  const entering = [...boundary].map((v) => {
    const input = g.value(g.freshName(`${v.name}_entering`));
    input.elemType = v.elemType;
    input.shape = v.shape;
    g.replaceAllUsesWith(v, input);
    return input;
  });
  g.removeNodes(g.nodes.filter((n) => !needed.has(n)));
  g.inputs = [...g.inputs.filter((v) => v.uses().length > 0 && !v.initializer), ...entering];
  g.eliminateDeadCode();
  return encodeModel(m);
}
