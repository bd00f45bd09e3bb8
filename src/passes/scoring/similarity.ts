import { fail } from '../../ir/errors.js';
import { upperGramBlocks, type GramBackend } from './gram.js';
import { concatenatedInput, singleProducerInput, type ScaledRows } from './normalize.js';
import { SparseGraph, type CsrChunk } from './sparseGraph.js';
import { channelCount, DEFAULT_EPS, type UnitVectors } from './types.js';

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
}

/**
 * Builds A of eq. (1)–(3) for each part: cosine similarities from one GEMM streamed in row blocks, each block
 * thresholded into sparse rows as it arrives, so memory is O(edges + block), never O(n²).
 */
export async function channelSimilarityGraph(vectors: readonly UnitVectors[], opts: SimilarityOptions): Promise<SimilarityGraph> {
  const n = channelCount(vectors);
  const { threshold, eps = DEFAULT_EPS, weighted = true, coupling = 'concat', backend = 'auto' } = opts;
  if (!Number.isFinite(threshold)) fail(`similarity threshold must be a finite number, got ${threshold}`);
  if (!(eps > 0)) fail(`ε must be positive, got ${eps}`);
  const inputs: ScaledRows[] =
    vectors.length === 1 ? [singleProducerInput(vectors[0]!, eps)]
    : coupling === 'concat' ? [concatenatedInput(vectors, eps)]
    : vectors.map((v, p) => singleProducerInput(v, eps, p));
  const parts: SparseGraph[] = [];
  const backends: ('onnxruntime' | 'typescript')[] = [];
  for (const input of inputs) {
    const chunks: CsrChunk[] = [];
    backends.push(await upperGramBlocks(input, (r0, r1, block) => chunks.push(thresholdBlock(input.scale, r0, r1, block, threshold, weighted)), backend));
    parts.push(new SparseGraph(n, chunks));
  }
  return { n, threshold, weighted, coupling, parts, backends };
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
