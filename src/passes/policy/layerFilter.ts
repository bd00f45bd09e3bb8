import picomatch from 'picomatch';
import { fail } from '../../ir/errors.js';

/**
 * A node-name pattern from --layers / --exclude / a ratio config: `/regex/flags` is a regular expression, anything
 * else a glob (picomatch; `*` also matches `/` and `.` since ONNX node names use both as separators).
 */
export type NameMatcher = (name: string) => boolean;

export function nameMatcher(pattern: string): NameMatcher {
  if (pattern.trim() === '') fail('a layer pattern must not be empty (a glob such as \'conv*\' or a /regex/)');
  const re = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (re) {
    let regex: RegExp;
    try {
      regex = new RegExp(re[1]!, re[2]);
    } catch (e) {
      fail(`invalid layer pattern ${pattern}: ${(e as Error).message}`);
    }
    return (name) => regex.test(name);
  }
  const glob = picomatch(pattern, { dot: true, bash: true });
  return (name) => glob(name) || glob(name.replaceAll('/', '.'));
}

/** True when any of `names` matches any pattern (a group matches through any of its producer nodes). */
export function anyMatches(patterns: readonly string[], names: readonly string[]): boolean {
  const matchers = patterns.map(nameMatcher);
  return names.some((n) => matchers.some((m) => m(n)));
}
