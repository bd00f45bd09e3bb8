import { InvalidArgumentError } from 'commander';

/** Commander argument parsers that reject bad values with one clear line (exit 2). */
export function parseNumberIn(min: number, max: number, what: string): (s: string) => number {
  return (s) => {
    const v = Number(s);
    if (s.trim() === '' || !Number.isFinite(v) || v < min || v > max) throw new InvalidArgumentError(`${what} must be a number in [${min}, ${max}], got '${s}'`);
    return v;
  };
}

export function parseInteger(min: number, what: string): (s: string) => number {
  return (s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}, got '${s}'`);
    return v;
  };
}
