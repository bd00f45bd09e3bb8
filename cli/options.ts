import { InvalidArgumentError } from 'commander';

/** Commander argument parsers that reject bad values with one clear line (exit 2). */
export function parseNumberIn(min: number, max: number, what: string): (s: string) => number {
  return (s) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isFinite(v) || v < min || v > max) throw new InvalidArgumentError(`${what} must be a number in [${min}, ${max}], got '${s}'`);
    return v;
  };
}

/**
 * A plain decimal integer in [min, max] ('1e3', '0x10' and ' 5' are refused). The upper bounds keep absurd values
 * (`--random 1e9`, `--epochs 1e9`) from turning into hours of work or an allocation that cannot succeed.
 */
export function parseInteger(min: number, what: string, max: number = 2 ** 31 - 1): (s: string) => number {
  return (s) => {
    const v = /^[0-9]{1,16}$/.test(s) ? Number(s) : Number.NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new InvalidArgumentError(`${what} must be an integer in [${min}, ${max}], got '${s}'`);
    return v;
  };
}

/** `auto` or an integer in [1, max] (--round-to). */
export function parseAutoOrInteger(what: string, max: number = 2 ** 31 - 1): (s: string) => 'auto' | number {
  const integer = parseInteger(1, what, max);
  return (s) => {
    if (s.trim() === 'auto') return 'auto';
    try {
      return integer(s);
    } catch {
      throw new InvalidArgumentError(`${what} must be 'auto' or an integer in [1, ${max}], got '${s}'`);
    }
  };
}

/** --layers / --exclude patterns: each a non-empty glob or /regex/. */
export function collectPattern(what: string): (s: string, previous: string[] | undefined) => string[] {
  return (s, previous) => {
    if (s.trim() === '') throw new InvalidArgumentError(`${what} patterns must not be empty (a glob such as 'conv*' or a /regex/)`);
    return [...(previous ?? []), s];
  };
}

/** `--external-data`'s help, the same on every command that writes a model. */
export const EXTERNAL_DATA_HELP = 'store weights in a side file <output>.data (automatic above 2 GiB and for an input with external data)';
