import { fail } from '../../../ir/errors.js';
import type { Node } from '../../../ir/node.js';
import type { NodeContext } from '../context.js';
import { attentionRules, microsoftAttentionRules } from './attention.js';
import { convRules } from './conv.js';
import { elementwiseRules, microsoftElementwiseRules } from './elementwise.js';
import { linearRules, microsoftLinearRules } from './linear.js';
import { movementRules } from './movement.js';
import { microsoftNormRules, normRules } from './norm.js';
import { reduceRules } from './reduce.js';
import type { ChannelRule, ChannelRuleTable } from './rule.js';
import { spatialRules } from './spatial.js';

export type { AxisSource, ChannelRule, ChannelRuleTable, InputAxis } from './rule.js';

/**
 * THE rule table: every default-domain op the engine understands, joined from each family's slice
 * (`rules/<family>.ts`). An op not listed here (or from another domain, unless in DOMAIN_RULES or registered below),
 * and If/Loop/Scan, declines every channel group it touches; it is never guessed to be elementwise.
 */
export const CHANNEL_RULES: ChannelRuleTable = Object.freeze({
  ...elementwiseRules,
  ...normRules,
  ...convRules,
  ...linearRules,
  ...movementRules,
  ...spatialRules,
  ...reduceRules,
  ...attentionRules,
});

/** Built-in rules of other domains: onnxruntime's contrib ops (the fused transformer ops decoder exports use). */
export const DOMAIN_RULES: Readonly<Record<string, ChannelRuleTable>> = Object.freeze({
  'com.microsoft': Object.freeze({ ...microsoftAttentionRules, ...microsoftNormRules, ...microsoftElementwiseRules, ...microsoftLinearRules }),
});

function builtIn(domain: string, opType: string): ChannelRule | undefined {
  const table = isDefaultDomain(domain) ? CHANNEL_RULES : Object.hasOwn(DOMAIN_RULES, domain) ? DOMAIN_RULES[domain] : undefined;
  return table && Object.hasOwn(table, opType) ? table[opType] : undefined;
}

/** Rules library users registered, by `domain/opType` (the default domain as ''). */
const registered = new Map<string, ChannelRule>();
/** Grows with every registration change, so cached analyses made under other rules are not reused. */
let generation = 0;

/** The registration generation (see `registerChannelRule`). */
export function registrationGeneration(): number {
  return generation;
}

const isDefaultDomain = (domain: string) => domain === '' || domain === 'ai.onnx';
const keyOf = (domain: string, opType: string) => `${isDefaultDomain(domain) ? '' : domain}/${opType}`;

/**
 * Teaches the engine an op it does not know: a custom-domain op, or a default-domain op missing from CHANNEL_RULES
 * (built-in rules cannot be replaced). `rule` is a ChannelRule, or just its `apply`; reuse a built-in one when the
 * op behaves like it (`CHANNEL_RULES.Relu` for an elementwise activation). Returns a function that removes the
 * registration. Whatever a rule claims, groups whose pruned shapes shape inference does not confirm are declined.
 */
export function registerChannelRule(domain: string, opType: string, rule: ChannelRule | ((ctx: NodeContext) => void)): () => void {
  if (!opType) fail('registerChannelRule: the op type is empty');
  if (builtIn(domain, opType)) fail(`registerChannelRule: ${domain && !isDefaultDomain(domain) ? `${domain}.` : ''}${opType} already has a built-in rule`);
  const key = keyOf(domain, opType);
  if (registered.has(key)) fail(`registerChannelRule: ${domain ? `${domain}.` : ''}${opType} is already registered`);
  const entry = typeof rule === 'function' ? { does: `registered rule for ${domain ? `${domain}.` : ''}${opType}`, apply: rule } : rule;
  registered.set(key, entry);
  generation++;
  return () => {
    if (registered.get(key) !== entry) return;
    registered.delete(key);
    generation++;
  };
}

/** The rule of an op: built-in (default domain, com.microsoft), else one registered; undefined when there is none. */
export function ruleFor(domain: string, opType: string): ChannelRule | undefined {
  return builtIn(domain, opType) ?? registered.get(keyOf(domain, opType));
}

/** The rule of a node (see ruleFor). */
export function ruleOf(node: Node): ChannelRule | undefined {
  return ruleFor(node.domain, node.opType);
}
