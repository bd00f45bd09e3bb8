import { readFileSync } from 'node:fs';
import { fail } from '../../ir/errors.js';
import { nameMatcher, type NameMatcher } from './layerFilter.js';

/** Per-layer pruning ratios: the first matching pattern wins; unmatched groups use the default ratio. */
export interface LayerRatios {
  readonly rules: readonly { pattern: string; ratio: number; match: NameMatcher }[];
}

/**
 * Reads a JSON config: either `{"pattern": ratio, ...}` or `{"default": r, "layers": {"pattern": ratio}}`.
 * Patterns are globs or /regex/ over node names (see nameMatcher); ratios are in [0, 1).
 */
export function parseLayerRatios(json: unknown, source = 'ratio config'): { ratios: LayerRatios; defaultRatio?: number } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(`${source}: expected a JSON object of pattern → ratio`);
  const obj = json as Record<string, unknown>;
  const layers = 'layers' in obj ? obj.layers : obj;
  if (typeof layers !== 'object' || layers === null || Array.isArray(layers)) fail(`${source}: "layers" must be an object of pattern → ratio`);
  const check = (what: string, v: unknown): number => {
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) fail(`${source}: ratio for ${what} must be a number in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  const rules = Object.entries(layers as Record<string, unknown>)
    .filter(([k]) => !('layers' in obj) || k !== 'default')
    .map(([pattern, v]) => ({ pattern, ratio: check(`'${pattern}'`, v), match: nameMatcher(pattern) }));
  const defaultRatio = 'layers' in obj && obj.default !== undefined ? check('default', obj.default) : undefined;
  return defaultRatio === undefined ? { ratios: { rules } } : { ratios: { rules }, defaultRatio };
}

export function loadLayerRatios(path: string): { ratios: LayerRatios; defaultRatio?: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    fail(`cannot read ratio config '${path}'`);
  }
  try {
    return parseLayerRatios(JSON.parse(text), path);
  } catch (e) {
    if (e instanceof SyntaxError) fail(`${path} is not valid JSON: ${e.message}`);
    throw e;
  }
}

/** The ratio for a group whose producers have these names. */
export function ratioFor(ratios: LayerRatios | undefined, names: readonly string[], fallback: number): number {
  for (const r of ratios?.rules ?? []) if (names.some((n) => r.match(n))) return r.ratio;
  return fallback;
}
