/**
 * Runtime checks of parsed JSON against a TypeScript type. `object<T>` must be given a check for every key of T,
 * so the compiler keeps a checker and its type in step; a mismatch throws a ShapeError naming the path.
 */

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export type Checker<T> = (value: unknown, path: string) => T;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v);
  if (typeof v === 'object') return 'an object';
  return typeof v === 'undefined' ? 'nothing' : `${typeof v} ${String(v)}`;
}

function mismatch(path: string, expected: string, v: unknown): never {
  throw new ShapeError(`${path}: expected ${expected}, got ${describe(v)}`);
}

export const number: Checker<number> = (v, path) => (typeof v === 'number' && Number.isFinite(v) ? v : mismatch(path, 'a number', v));
export const integer: Checker<number> = (v, path) => (Number.isInteger(v) ? (v as number) : mismatch(path, 'an integer', v));
export const string: Checker<string> = (v, path) => (typeof v === 'string' ? v : mismatch(path, 'a string', v));
export const boolean: Checker<boolean> = (v, path) => (typeof v === 'boolean' ? v : mismatch(path, 'true or false', v));

export function oneOf<T extends string | number>(...values: readonly T[]): Checker<T> {
  return (v, path) => (values.includes(v as T) ? (v as T) : mismatch(path, values.length === 1 ? JSON.stringify(values[0]) : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v));
}

export function arrayOf<T>(item: Checker<T>): Checker<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) return mismatch(path, 'an array', v);
    v.forEach((x, i) => item(x, `${path}[${i}]`));
    return v as T[];
  };
}

/** A key that may be absent (JSON has no undefined). */
export function optional<T>(check: Checker<T>): Checker<T | undefined> {
  return (v, path) => (v === undefined ? undefined : check(v, path));
}

/** null where JSON.stringify wrote a value it cannot represent (NaN, ±Infinity) or the type allows null. */
export function nullable<T>(check: Checker<T>): Checker<T | null> {
  return (v, path) => (v === null ? null : check(v, path));
}

/** An object with at least these keys (others are allowed: a newer minor writer may add fields). */
export function object<T>(shape: { [K in keyof T]-?: Checker<T[K]> }): Checker<T> {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return mismatch(path, 'an object', v);
    for (const key of Object.keys(shape) as (keyof T & string)[]) shape[key]((v as Record<string, unknown>)[key], `${path}.${key}`);
    return v as T;
  };
}
