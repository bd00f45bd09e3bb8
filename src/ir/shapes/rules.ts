import type { RuleTable, ShapeRule } from './context.js';
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

/** The shape rule of every ONNX (default domain) op we infer, by op type. */
export const SHAPE_RULES: Readonly<RuleTable> = Object.freeze({
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

/** Fused transformer ops by domain (contrib.ts): onnxruntime's, and opset 23's in the default domain. */
const CONTRIB_RULES: Readonly<Record<string, RuleTable>> = { '': defaultDomainContribRules, 'com.microsoft': microsoftRules };

/** The rule for an op type (of the default domain unless `domain` is given), or undefined when we have none. */
export function shapeRuleFor(opType: string, domain = ''): ShapeRule | undefined {
  if (domain === '' && Object.hasOwn(SHAPE_RULES, opType)) return SHAPE_RULES[opType];
  const table = Object.hasOwn(CONTRIB_RULES, domain) ? CONTRIB_RULES[domain]! : undefined;
  return table && Object.hasOwn(table, opType) ? table[opType] : undefined;
}
