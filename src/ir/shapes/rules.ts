import type { OpRule, OpSignature, RuleTable, ShapeRule } from './context.js';
import { constantRules } from './constantFolding.js';
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

function ruleFor(opType: string): OpRule | undefined {
  return Object.hasOwn(OP_RULES, opType) ? OP_RULES[opType] : undefined;
}

/** The shape rule for a default-domain op type, or undefined when we have none (never an Object.prototype member). */
export function shapeRuleFor(opType: string): ShapeRule | undefined {
  return ruleFor(opType)?.infer;
}

/** What a default-domain node of this op type may look like, or undefined for ops we do not know. */
export function signatureFor(opType: string): OpSignature | undefined {
  return ruleFor(opType)?.signature;
}
