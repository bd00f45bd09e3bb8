import type { Node } from '../../../ir/node.js';
import type { ModelFacts, NodeContext } from '../context.js';
import type { Edit } from '../state.js';

/** Axis `axis` of input `input` of a node, that input having rank `rank`. */
export interface InputAxis {
  readonly input: number;
  readonly axis: number;
  readonly rank: number;
}

/** Where an output axis of a shape op comes from in its data input, for slicing a constant through it. */
export interface AxisSource {
  /** The axis of input 0; absent when the input is broadcast along it (nothing there to slice). */
  readonly axis?: number;
  /** A rewrite the slice needs at this node (an Expand whose shape vector names the channel count). */
  readonly edit?: Edit;
}

/**
 * Everything the engine knows about one op's channels. `apply` is the rule proper; the optional fields answer the
 * questions other parts of the engine ask about a node they are not visiting, so that no list of op names lives
 * outside the rule table.
 */
export interface ChannelRule {
  /** One line for documentation and `inspect`. */
  readonly does: string;
  /** How labels flow from the node's inputs to its outputs, what it slices, what it declines. */
  readonly apply: (ctx: NodeContext) => void;
  /**
   * Where an axis of one input lands on output 0, for looks ahead of the walk (which of a reshape's split axes is
   * taken apart downstream): an output axis, 'apart' when the op takes that axis apart (indexes, splits, slices or
   * reshapes along it), or undefined when it does neither and the look stops here.
   */
  readonly forward?: (node: Node, at: InputAxis) => number | 'apart' | undefined;
  /**
   * Where output axis `axis` comes from in data input 0, for slicing a constant that reaches a consumer through this
   * op (ViT's class token is Expand(class_token)); undefined when it cannot be followed.
   */
  readonly back?: (node: Node, axis: number, facts: ModelFacts) => AxisSource | undefined;
}

/** A rule table: op type → rule. Each `rules/<family>.ts` exports its slice; `rules/index.ts` joins them. */
export type ChannelRuleTable = Readonly<Record<string, ChannelRule>>;

export function rule(does: string, apply: (ctx: NodeContext) => void, knows: Pick<ChannelRule, 'forward' | 'back'> = {}): ChannelRule {
  return { does, apply, ...knows };
}

/** The same rule for several op types. */
export function table(ops: readonly string[], r: ChannelRule): ChannelRuleTable {
  return Object.fromEntries(ops.map((op) => [op, r]));
}

/** `forward` of ops whose output keeps input axes in place (elementwise, same rank). */
export function sameAxis(node: Node, { axis, rank }: InputAxis): number | undefined {
  return node.outputs[0]?.shape?.length === rank ? axis : undefined;
}
