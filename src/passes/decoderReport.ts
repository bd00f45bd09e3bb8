import { cachePairs } from '../ir/kvCache.js';
import type { Model } from '../ir/model.js';
import type { Dim } from '../ir/value.js';
import type { ChannelGroup } from './dependency/groups.js';

export interface SizeChange {
  before: number;
  after: number;
}

/** What pruning did to a decoder with a KV cache, as its runtime config states it. */
export interface DecoderReport {
  /** Whether every layer removed the same number of heads / KV groups (--uniform-heads). */
  uniformHeads: boolean;
  /** The declared shapes of the cache inputs after pruning, per layer (the outputs present.{i}.* follow them). */
  cache: { layer: number; key?: Dim[]; value?: Dim[] }[];
  /**
   * The sizes a runtime config (genai_config.json) states, where one value holds for every layer: query heads, KV
   * heads, the hidden size (residual stream) and the FFN's intermediate size. A size layers disagree on is absent
   * and `notes` says so.
   */
  sizes: { numAttentionHeads?: SizeChange; numKeyValueHeads?: SizeChange; hiddenSize?: SizeChange; intermediateSize?: SizeChange };
  notes: string[];
}

/**
 * The decoder section of a prune report, for a model with a KV cache (undefined otherwise): `kept` gives each
 * group's kept unit count (groups not listed keep all), `model` is the pruned model.
 */
export function decoderReport(model: Model, groups: readonly ChannelGroup[], kept: ReadonlyMap<number, number>, uniformHeads: boolean): DecoderReport | undefined {
  const pairs = cachePairs(model.graph);
  if (!pairs.length) return undefined;
  const layers = new Map<number, DecoderReport['cache'][number]>();
  for (const p of pairs) {
    const entry = layers.get(p.layer) ?? layers.set(p.layer, { layer: p.layer }).get(p.layer)!;
    entry[p.kind] = [...p.past.shape!];
  }
  const notes: string[] = [];
  const keptOf = (g: ChannelGroup) => kept.get(g.id) ?? g.channels;
  const attention = groups.filter((g) => g.attention);
  const residual = groups.filter((g) => g.sources.length && g.producers.length && !g.attention);
  // The FFN: what a weight layer consumes again (the LM head's vocabulary leaves the model instead).
  const ffn = groups.filter((g) => !g.sources.length && !g.attention && g.kind === 'dense' && [...g.roles.values()].includes('consumer'));
  const size = (name: string, list: readonly ChannelGroup[], measure: (g: ChannelGroup) => SizeChange, perLayer = true): SizeChange | undefined => {
    if (!list.length) return undefined;
    if (perLayer && list.length !== layers.size) {
      // A layer whose heads or FFN form no group (MatMulNBits weights) keeps its size: no single value.
      notes.push(`${name}: ${list.length} of ${layers.size} layers are prunable groups, the others keep their size: no single value`);
      return undefined;
    }
    const all = list.map(measure);
    if (all.every((s) => s.before === all[0]!.before && s.after === all[0]!.after)) return all[0]!;
    notes.push(`${name} differs between layers (${[...new Set(all.map((s) => s.after))].join(', ')}): no single value`);
    return undefined;
  };
  const perUnit = (g: ChannelGroup) => g.attention!.queryHeads / g.channels;
  const sizes: DecoderReport['sizes'] = {};
  const put = (key: keyof DecoderReport['sizes'], s: SizeChange | undefined) => { if (s) sizes[key] = s; };
  put('numAttentionHeads', size('num_attention_heads', attention, (g) => ({ before: g.attention!.queryHeads, after: keptOf(g) * perUnit(g) })));
  put('numKeyValueHeads', size('num_key_value_heads', attention, (g) => ({ before: g.channels, after: keptOf(g) })));
  put('hiddenSize', size('hidden_size', residual, (g) => ({ before: g.channels, after: keptOf(g) }), false));
  put('intermediateSize', size('intermediate_size', ffn, (g) => ({ before: g.channels, after: keptOf(g) })));
  return { uniformHeads, cache: [...layers.values()].sort((a, b) => a.layer - b.layer), sizes, notes };
}
