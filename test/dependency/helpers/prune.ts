import type { ChannelGroup } from '../../../src/passes/dependency/groups.js';
import type { Removal } from './maskedReference.js';
import { Rng } from '../../support/index.js';

/**
 * Random keep lists: each prunable group loses round(ratio · units) random units, but keeps one unit of each set
 * in its `nonEmpty` list (a layer or a segment with no channels is not a model).
 */
export function randomKeep(groups: readonly ChannelGroup[], ratio: number, seed: number): Map<number, number[]> {
  const rng = new Rng(seed);
  const keep = new Map<number, number[]>();
  for (const g of groups) {
    if (!g.prunable) continue;
    const order = rng.shuffle(Array.from({ length: g.channels }, (_, i) => i));
    const dropped = new Set(order.slice(0, Math.min(g.channels - 1, Math.round(ratio * g.channels))));
    for (const set of g.nonEmpty) if (set.every((u) => dropped.has(u))) dropped.delete(set[0]!);
    keep.set(g.id, order.filter((u) => !dropped.has(u)).sort((a, b) => a - b));
  }
  return keep;
}

export function keepAll(groups: readonly ChannelGroup[]): Map<number, number[]> {
  return new Map(groups.filter((g) => g.prunable).map((g) => [g.id, Array.from({ length: g.channels }, (_, i) => i)]));
}

/** The producer (and source) output channels a keep map removes, as the oracle takes them. */
export function removalsOf(groups: readonly ChannelGroup[], keep: ReadonlyMap<number, readonly number[]>): Removal[] {
  const out: Removal[] = [];
  for (const [id, units] of keep) {
    const kept = new Set(units);
    for (const p of [...groups[id]!.producerChannels, ...groups[id]!.sourceChannels]) {
      const channels = [...p.unitOf.keys()].filter((j) => !kept.has(p.unitOf[j]!));
      if (channels.length) out.push({ output: p.output.name, axis: p.axis, channels });
    }
  }
  return out;
}
