import type { Node } from '../../ir/node.js';
import type { ChannelGroup } from './groups.js';
import type { Role } from './state.js';

const MAX_THROUGH = 8;
const MAX_LIST = 6;

/** `conv1 → bn1 → relu → {conv2.in, conv3.in}`: producers, the nodes channels pass through, then consumers. */
export function memberChain(roles: ReadonlyMap<Node, Role>): string {
  const of = (role: Role) => [...roles].filter(([, r]) => r === role).map(([n]) => n.label);
  const producers = [...of('producer'), ...of('source')];
  const through = of('through');
  const consumers = of('consumer').map((l) => `${l}.in`);
  const parts: string[] = [];
  if (producers.length) parts.push(braced(producers));
  if (through.length > MAX_THROUGH) parts.push(...through.slice(0, MAX_THROUGH - 1), `… (${through.length - MAX_THROUGH + 1} more)`);
  else parts.push(...through);
  if (consumers.length) parts.push(braced(consumers));
  return parts.join(' → ');
}

function braced(names: string[]): string {
  if (names.length === 1) return names[0]!;
  const shown = names.length > MAX_LIST ? [...names.slice(0, MAX_LIST), `… ${names.length - MAX_LIST} more`] : names;
  return `{${shown.join(', ')}}`;
}

/** One group as readable lines. */
export function formatGroup(g: ChannelGroup): string {
  const residual = g.residual !== undefined ? `  residual stream (added at ${g.residual}; pruned only with --prune-residual)` : '';
  const head = `#${g.id} ${g.kind} ${g.channels} ch${headsNote(g)}  params ${g.params}  MACs ${g.macs}  ${g.prunable ? 'prunable' : 'DECLINED'}${residual}`;
  const lines = [head, `   ${g.members}`];
  if (g.reason) lines.push(`   reason: ${g.reason}`);
  return lines.join('\n');
}

/** ` (8 query heads in 2 KV groups)` for an attention group: what its units are. */
function headsNote(g: ChannelGroup): string {
  const heads = g.attention?.queryHeads;
  if (!heads) return '';
  return heads === g.channels ? ` (${heads} heads)` : ` (${heads} query heads in ${g.channels} KV groups)`;
}

/** Every group, prunable first in graph order, then the declined ones. */
export function formatGroups(groups: readonly ChannelGroup[]): string {
  const prunable = groups.filter((g) => g.prunable);
  const declined = groups.filter((g) => !g.prunable);
  const out = [`${groups.length} channel groups: ${prunable.length} prunable, ${declined.length} declined`];
  for (const g of [...prunable, ...declined]) out.push(formatGroup(g));
  return out.join('\n');
}

/** JSON form for `inspect --groups --json`. */
export interface GroupJson {
  id: number;
  kind: 'dense' | 'conv';
  producers: string[];
  channels: number;
  members: string;
  prunable: boolean;
  reason?: string;
  params: number;
  macs: number;
  /** Attention groups: the query heads their units hold (a unit is a head, or a KV group of several). */
  queryHeads?: number;
  /** Residual streams: the node that adds the producers' channels. */
  residual?: string;
}

export function groupsToJson(groups: readonly ChannelGroup[]): { groups: GroupJson[] } {
  return {
    groups: groups.map((g) => ({
      id: g.id, kind: g.kind, producers: g.producers.map((n) => n.label), channels: g.channels, members: g.members,
      prunable: g.prunable, ...(g.reason ? { reason: g.reason } : {}), params: g.params, macs: g.macs,
      ...(g.attention ? { queryHeads: g.attention.queryHeads } : {}),
      ...(g.residual !== undefined ? { residual: g.residual } : {}),
    })),
  };
}
