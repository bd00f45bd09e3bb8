import { fail } from '../../ir/errors.js';

/**
 * What scoring ranks, for one producer: row j (length d) is the weight vector of unit j, row-major n×d (Gemm/MatMul:
 * the weights of output neuron j; Conv: the flattened C/g·kH·kW filter of channel j; a unit of several channels — an
 * attention head — concatenates theirs). A coupled group (residual add, concat branches) gives one UnitVectors per
 * producer, all with the same n.
 */
export interface UnitVectors {
  readonly rows: Float32Array;
  readonly n: number;
  readonly d: number;
}

/**
 * A producer's unit vectors read only when a criterion needs them and dropped after use (`load()` reads the weights
 * again, from external data when they live there), so a group of many producers holds one at a time.
 */
export interface LazyUnitVectors {
  readonly n: number;
  readonly d: number;
  load(): UnitVectors;
}

/** What a criterion takes per producer: vectors in memory, or ones to load on demand. */
export type UnitVectorSource = UnitVectors | LazyUnitVectors;

/** The vectors of producer `p`, loaded if lazy and checked against the shape they announced. */
export function loadVectors(v: UnitVectorSource, p = 0): UnitVectors {
  const loaded = 'rows' in v ? v : v.load();
  if (loaded.n !== v.n || loaded.d !== v.d) fail(`producer ${p}: loaded ${loaded.n}×${loaded.d} channel vectors, announced ${v.n}×${v.d}`);
  if (loaded.rows.length !== loaded.n * loaded.d) fail(`producer ${p}: ${loaded.rows.length} values for ${loaded.n}×${loaded.d} channel vectors`);
  return loaded;
}

/** ε of eq. (1): ŵ = w / (‖w‖₂ + ε). */
export const DEFAULT_EPS = 1e-8;

/** Checks a group's producers agree on n and (those in memory) hold n·d values; returns n. */
export function channelCount(vectors: readonly UnitVectorSource[]): number {
  if (vectors.length === 0) fail('a channel group needs at least one producer');
  const n = vectors[0]!.n;
  vectors.forEach((v, p) => {
    if (!Number.isInteger(v.n) || !Number.isInteger(v.d) || v.n < 0 || v.d < 0) fail(`producer ${p}: bad shape ${v.n}×${v.d}`);
    if (v.n !== n) fail(`producer ${p} has ${v.n} channels, producer 0 has ${n}: a coupled group must agree`);
    if ('rows' in v && v.rows.length !== v.n * v.d) fail(`producer ${p}: ${v.rows.length} values for ${v.n}×${v.d} channel vectors`);
  });
  return n;
}
