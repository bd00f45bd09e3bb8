import type { OpRule, OpSignature, RuleTable, ShapeRule } from './context.js';
import { constantRules } from './constantFolding.js';
import { defaultDomainContribRules, microsoftRules } from './contrib.js';
import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { indexingRules } from './indexing.js';
import { linearRules } from './linear.js';
import { lossRules } from './loss.js';
import { movementRules } from './movement.js';
import { normRules } from './norm.js';
import { poolRules } from './pool.js';
import { randomRules } from './random.js';
import { recurrentRules } from './recurrent.js';
import { reduceRules } from './reduce.js';
import { resizeRules } from './resize.js';
import { samplingRules } from './sampling.js';

/** The signature and shape rule of every ONNX (default domain) op we know, by op type. */
export const OP_RULES: Readonly<RuleTable> = Object.freeze({
  ...elementwiseRules,
  ...constantRules,
  ...convRules,
  ...linearRules,
  ...normRules,
  ...poolRules,
  ...reduceRules,
  ...movementRules,
  ...indexingRules,
  ...resizeRules,
  ...recurrentRules,
  ...samplingRules,
  ...randomRules,
  ...lossRules,
});

/** Fused transformer ops (contrib.ts): opset 23's and the model builder's in the default domain, onnxruntime's. */
const TABLES: Readonly<Record<string, readonly RuleTable[]>> = {
  '': [OP_RULES, defaultDomainContribRules],
  'com.microsoft': [microsoftRules],
};

/**
 * Everything we know about an op type of a domain (the default one unless given; 'ai.onnx' is the default one), or
 * undefined for ops we have no rule for (never an Object.prototype member). Ops of other domains stay legal: the
 * engine declines their channel groups.
 */
export function opRuleFor(opType: string, domain = ''): OpRule | undefined {
  const d = domain === 'ai.onnx' ? '' : domain;
  const tables = Object.hasOwn(TABLES, d) ? TABLES[d]! : [];
  return tables.find((t) => Object.hasOwn(t, opType))?.[opType];
}

/** The shape rule for an op type, or undefined when we have none. */
export function shapeRuleFor(opType: string, domain = ''): ShapeRule | undefined {
  return opRuleFor(opType, domain)?.infer;
}

/** What a node of this op type may look like, or undefined for ops we do not know. */
export function signatureFor(opType: string, domain = ''): OpSignature | undefined {
  return opRuleFor(opType, domain)?.signature;
}
