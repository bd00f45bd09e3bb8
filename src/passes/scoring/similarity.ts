import { fail } from '../../ir/errors.js';
import { upperGramBlocks, type GramBackend, type GramBlockSink } from './gram.js';
import { addSquares, addUnitSquares, concatenatedInput, concatScale, singleProducerInput, type ScaledRows } from './normalize.js';
import { SparseGraph, type CsrChunk } from './sparseGraph.js';
import { channelCount, DEFAULT_EPS, loadVectors, type UnitVectorSource } from './types.js';

/** How a coupled group's producers (channels shared through Add/Concat…) are combined into one score per channel. */
export type Coupling = 'concat' | 'average';

export interface SimilarityOptions {
  /** τ: an edge joins i ≠ j when S_ij > τ (strict), eq. (3). */
  threshold: number;
  /** ε of eq. (1); default 1e-8. */
  eps?: number;
  /** true (default): edge weight S_ij, as eq. (3); false: every edge weighs 1. */
  weighted?: boolean;
  /** 'concat' (default): one graph over the concatenated normalised vectors; 'average': one graph per producer. */
  coupling?: Coupling;
  /** Where the GEMM runs; 'auto' (default) uses a TypeScript loop for tiny layers and onnxruntime otherwise. */
  backend?: GramBackend;
  /**
   * 'concat' coupling of several producers: 'auto' (default) concatenates their vectors unless that matrix would be
   * over 64 MiB and longer than 2n; 'accumulate' always sums per-producer Gram blocks (`accumulatedChunks`).
   */
  concatenation?: 'auto' | 'accumulate';
  /** Floats of one band of accumulated similarities (default 32 Mi: 256 MiB of float64). */
  bandFloats?: number;
}

/**
 * The neuron similarity graph of a channel group. `parts` holds one graph for a single producer or 'concat'
 * coupling, one graph per producer for 'average' coupling (scores are then computed per part and averaged).
 */
export interface SimilarityGraph {
  readonly n: number;
  readonly threshold: number;
  readonly weighted: boolean;
  readonly coupling: Coupling;
  readonly parts: readonly SparseGraph[];
  /** Which GEMM backend computed each part. */
  readonly backends: readonly ('onnxruntime' | 'typescript')[];
  /**
   * A weight graph's by-product: ‖w_j‖₂ of each unit's raw vector over all producers (the l2 criterion), so an empty
   * graph falls back to l2 without reading the weights again.
   */
  readonly norms?: Float64Array;
}

/**
 * Builds A of eq. (1)–(3) for each part: cosine similarities from one GEMM streamed in row blocks, each block
 * thresholded into sparse rows as it arrives, so memory is O(edges + block), never O(n²). Producers given lazily are
 * loaded one at a time; a 'concat' group whose concatenated vectors would be large and longer than 2n (the residual
 * stream, whose producers are in every layer) is never concatenated: see `accumulatedChunks`.
 */
export async function channelSimilarityGraph(vectors: readonly UnitVectorSource[], opts: SimilarityOptions): Promise<SimilarityGraph> {
  const n = channelCount(vectors);
  const { threshold, eps = DEFAULT_EPS, weighted = true, coupling = 'concat', backend = 'auto', concatenation = 'auto', bandFloats = BAND_FLOATS } = opts;
  if (!Number.isFinite(threshold)) fail(`similarity threshold must be a finite number, got ${threshold}`);
  if (!(eps > 0)) fail(`ε must be positive, got ${eps}`);
  const parts: SparseGraph[] = [];
  const backends: ('onnxruntime' | 'typescript')[] = [];
  const sinkFor = (input: ScaledRows, chunks: CsrChunk[]): GramBlockSink => (r0, r1, block) => chunks.push(thresholdBlock(input.scale, r0, r1, block, threshold, weighted));
  if (vectors.length > 1 && coupling === 'concat' && (concatenation === 'accumulate' || accumulates(vectors, n))) {
    if (!(bandFloats >= 1)) fail(`bandFloats must be at least 1, got ${bandFloats}`);
    const { chunks, backend: used, norms } = await accumulatedChunks(vectors, n, { threshold, eps, weighted, backend, bandFloats });
    return { n, threshold, weighted, coupling, parts: [new SparseGraph(n, chunks)], backends: [used], norms };
  }
  const squares = new Float64Array(n);
  const inputs: (() => ScaledRows)[] =
    vectors.length > 1 && coupling === 'concat' ? [() => concatenatedInput(vectors, eps)]
    : vectors.map((v, p) => () => singleProducerInput(loadVectors(v, p), eps, p));
  for (const make of inputs) {
    const input = make();
    addSquares(squares, input.norms);
    const chunks: CsrChunk[] = [];
    backends.push(await upperGramBlocks(input, sinkFor(input, chunks), backend));
    parts.push(new SparseGraph(n, chunks));
  }
  return { n, threshold, weighted, coupling, parts, backends, norms: squares.map(Math.sqrt) };
}

/** Concatenations up to this size are always built (every test-sized group): one GEMM is the simplest path. */
const CONCAT_MAX_BYTES = 64 << 20;
/** Floats of one band of the accumulated similarities (256 MiB of float64). */
const BAND_FLOATS = 32 << 20;

/**
 * Whether 'concat' coupling accumulates per-producer Gram blocks instead of concatenating: when the concatenation
 * (n × Σd floats) would be over 64 MiB and bigger than an n × n float64 accumulator, i.e. Σd > 2n.
 */
function accumulates(vectors: readonly UnitVectorSource[], n: number): boolean {
  const d = vectors.reduce((s, v) => s + v.d, 0);
  return 4 * n * d > CONCAT_MAX_BYTES && d > 2 * n;
}

/**
 * 'concat' coupling without the concatenation. ũ_i·ũ_j = c_i c_j Σ_p s_iᵖ s_jᵖ (Wᵖ Wᵖᵀ)_ij, where sᵖ = 1/(‖wᵖ‖ + ε)
 * normalises producer p (eq. 1) and c = 1/(‖u‖ + ε) the concatenation: so each producer's Gram blocks, scaled by
 * its sᵖ, are added into a float64 accumulator, producer by producer, and only the sum is thresholded. The
 * accumulator covers a band of rows (all n rows against the columns from the band's first row on, up to 256 MiB);
 * when n is too large for one band the producers are loaded again for each band. Memory: one band, one producer.
 */
async function accumulatedChunks(
  vectors: readonly UnitVectorSource[], n: number, o: { threshold: number; eps: number; weighted: boolean; backend: GramBackend; bandFloats: number },
): Promise<{ chunks: CsrChunk[]; backend: 'onnxruntime' | 'typescript'; norms: Float64Array }> {
  const height = Math.max(1, Math.min(n, Math.floor(o.bandFloats / Math.max(1, n))));
  const sq = new Float64Array(n);
  const squares = new Float64Array(n);
  const chunks: CsrChunk[] = [];
  let used: 'onnxruntime' | 'typescript' = 'typescript';
  for (let r0 = 0; r0 < n; r0 += height) {
    const r1 = Math.min(n, r0 + height);
    const width = n - r0;
    const band = new Float64Array((r1 - r0) * width);
    for (const [p, v] of vectors.entries()) {
      const input = singleProducerInput(loadVectors(v, p), o.eps, p);
      if (r0 === 0) {
        addUnitSquares(sq, input.scale, o.eps);
        addSquares(squares, input.norms);
      }
      const s = input.scale;
      const b = await upperGramBlocks(input, (b0, b1, block) => {
        const bw = n - b0;
        for (let i = b0; i < b1; i++) {
          const si = s[i]!;
          const at = (i - r0) * width - r0;
          const from = (i - b0) * bw - b0;
          for (let j = i; j < n; j++) band[at + j] += si * s[j]! * block[from + j]!;
        }
      }, o.backend, [r0, r1]);
      if (b === 'onnxruntime') used = b;
    }
    chunks.push(thresholdBlock(concatScale(sq, o.eps), r0, r1, band, o.threshold, o.weighted));
  }
  return { chunks, backend: used, norms: squares.map(Math.sqrt) };
}

/** Keeps the strict-upper-triangle entries of one Gram block whose cosine S_ij = scale_i·scale_j·G_ij exceeds τ. */
function thresholdBlock(scale: Float64Array, r0: number, r1: number, block: Float32Array | Float64Array, tau: number, weighted: boolean): CsrChunk {
  const n = scale.length;
  const width = n - r0;
  const ptr = new Uint32Array(r1 - r0 + 1);
  let cols = new Uint32Array(Math.max(16, ((r1 - r0) * width) >>> 4));
  let vals = weighted ? new Float32Array(cols.length) : null;
  let count = 0;
  for (let i = r0; i < r1; i++) {
    const base = (i - r0) * width - r0;
    const si = scale[i];
    for (let j = i + 1; j < n; j++) {
      const s = block[base + j] * si * scale[j];
      if (s > tau) {
        if (count === cols.length) {
          cols = grow(cols, new Uint32Array(cols.length * 2));
          if (vals) vals = grow(vals, new Float32Array(vals.length * 2));
        }
        cols[count] = j;
        if (vals) vals[count] = s;
        count++;
      }
    }
    ptr[i - r0 + 1] = count;
  }
  return { rowStart: r0, rowEnd: r1, ptr, cols: cols.slice(0, count), vals: vals ? vals.slice(0, count) : null };
}

function grow<T extends Uint32Array | Float32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
