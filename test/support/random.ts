import { Rng } from '../../src/ir/random.js';

/** Seeded randomness for test data: the project's own PRNG (src/ir/random.ts), never a copy of it. */
export { Rng };

/** Seeded standard normals (Box-Muller over the project's PRNG), for test tensors. */
export function seededNormal(shape: readonly number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  // 1 − u keeps the logarithm's argument in (0, 1].
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
}

/** n seeded random bytes. */
export function seededBytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => rng.int(256));
}
