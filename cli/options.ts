import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fail } from '../src/ir/errors.js';
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

/** `auto` or an integer >= 1 (--round-to). */
export function parseAutoOrInteger(what: string): (s: string) => 'auto' | number {
  const integer = parseInteger(1, what);
  return (s) => {
    if (s.trim() === 'auto') return 'auto';
    try {
      return integer(s);
    } catch {
      throw new InvalidArgumentError(`${what} must be 'auto' or an integer >= 1, got '${s}'`);
    }
  };
}

/** Whether two paths name the same file: the same path, or (through links) the same inode. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false; // one of them does not exist yet
  }
}

/** Refuses an output path that is the input model (directly or through a link). */
export function refuseOverwritingInput(input: string, output: string): void {
  if (sameFile(input, output)) fail('the output path is the input model: refusing to overwrite the input');
}
