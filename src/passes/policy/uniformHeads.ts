import type { ChannelGroup } from '../dependency/groups.js';
import { selectKeep } from '../scoring/index.js';

/** One scored group and the units the ratio policy chose to keep. */
export interface HeadsChoice {
  readonly group: ChannelGroup;
  readonly scores: Float64Array;
  keep: number[];
}

/**
 * `--uniform-heads`: the same number of units (heads, or KV groups) removed in every attention group, because
 * runtimes such as onnxruntime-genai allocate one cache shape for all layers. The count is the mean of what the ratio
 * policy removed per group (the same everywhere under a plain --ratio; --global and --layer-ratios may differ), each
 * group keeping at least one unit; the scores still choose which units each layer keeps. Returns the count, or
 * undefined when there are fewer than two attention groups.
 */
export function uniformHeads(choices: readonly HeadsChoice[], rule: 'central' | 'peripheral'): number | undefined {
  const attention = choices.filter((c) => c.group.attention);
  if (attention.length < 2) return undefined;
  const removed = Math.round(attention.reduce((s, c) => s + c.group.channels - c.keep.length, 0) / attention.length);
  for (const c of attention) {
    const n = c.group.channels;
    const r = Math.min(removed, n - 1);
    if (n - c.keep.length !== r) c.keep = selectKeep(c.scores, { ratio: r / n, keep: rule }).keep;
  }
  return removed;
}

/**
 * What a GQA group's note says about rounding: its units are whole KV groups, so a ratio of the query heads that is
 * not a whole number of groups was rounded (⌊p · groups⌋ groups removed). Undefined for MHA (a unit is one head).
 */
export function kvGroupNote(group: ChannelGroup, removed: number, ratio: number): string | undefined {
  const heads = group.attention?.queryHeads;
  if (!heads || heads <= group.channels) return undefined;
  const rep = heads / group.channels;
  const asked = ratio * heads;
  const exact = Math.abs(asked - Math.round(asked)) < 1e-9 && Math.round(asked) % rep === 0;
  return `whole KV groups of ${rep} query heads: ${removed} of ${group.channels} groups removed (${removed * rep} of ${heads} query heads${exact ? '' : `; ${+asked.toFixed(2)} heads rounded to whole groups`})`;
}
