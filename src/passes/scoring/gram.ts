import type { InferenceSession } from 'onnxruntime-node';
import { ModelBuilder } from '../../ir/builder.js';
import { DataType } from '../../ir/dtype.js';
import { encodeModel } from '../../ir/save.js';
import type { UnitVectors } from './types.js';

/**
 * Receives one block of the upper triangle of G = M·Mᵀ: rows [rowStart, rowEnd) against columns [rowStart, n),
 * row-major, (rowEnd − rowStart) × (n − rowStart). Blocks arrive in row order; the array is only valid during the call.
 */
export type GramBlockSink = (rowStart: number, rowEnd: number, block: Float32Array | Float64Array) => void;

export type GramBackend = 'auto' | 'onnxruntime' | 'typescript';

/** Below this many multiply-adds (half of n²·d; ~10 ms at the loop's ~0.4 GMAC/s) a plain loop beats creating an onnxruntime session. */
const TYPESCRIPT_MAX_MACS = 2 ** 22;
/** Each block's output stays under this many floats (32 MiB), so memory is bounded whatever n is. */
const BLOCK_FLOATS = 8 << 20;
/**
 * Row-block height for onnxruntime: small enough to skip most of the lower triangle (work ≈ ½n²d·(1 + b/n)),
 * big enough that each Gemm call keeps MLAS busy. 256–512 measured alike for n = 4096 on 2 cores (384 a shade
 * best); smaller layers use about n/8 (at least 128) so they, too, skip most of the lower triangle.
 */
const BLOCK_ROWS = 384;
const MIN_BLOCK_ROWS = 128;

/**
 * Streams the upper triangle of M·Mᵀ in row blocks to `sink`, on the backend that suits the size; `rows` limits it
 * to the band of rows [start, end) (each still against the columns from its own first row on).
 */
export async function upperGramBlocks(m: UnitVectors, sink: GramBlockSink, backend: GramBackend = 'auto', rows: readonly [number, number] = [0, m.n]): Promise<'onnxruntime' | 'typescript'> {
  const [start, end] = rows;
  const macs = ((end - start) * (2 * m.n - start - end) * m.d) / 2;
  const tiny = macs === 0 || (backend === 'auto' && macs <= TYPESCRIPT_MAX_MACS);
  const chosen = tiny ? 'typescript' : backend === 'auto' ? 'onnxruntime' : backend;
  if (chosen === 'typescript') typescriptGram(m, sink, start, end);
  else await onnxruntimeGram(m, sink, start, end);
  return chosen;
}

function blockRows(n: number, limit: number): number {
  return Math.max(1, Math.min(limit, Math.floor(BLOCK_FLOATS / Math.max(1, n))));
}

/** Float64 dot products, row block by row block: exact enough to be the reference, fast enough for tiny layers. */
function typescriptGram({ rows, n, d }: UnitVectors, sink: GramBlockSink, start: number, end: number): void {
  const height = blockRows(n, 256);
  for (let r0 = start; r0 < end; r0 += height) {
    const r1 = Math.min(end, r0 + height);
    const width = n - r0;
    const block = new Float64Array((r1 - r0) * width);
    for (let i = r0; i < r1; i++) {
      const a = i * d;
      for (let j = i; j < n; j++) {
        const b = j * d;
        let s = 0;
        for (let k = 0; k < d; k++) s += rows[a + k] * rows[b + k];
        block[(i - r0) * width + (j - r0)] = s;
      }
    }
    sink(r0, r1, block);
  }
}

/** One Gemm(A, B, transB=1) session per fan-in d, reused for every block and layer of that width. */
const sessions = new Map<number, Promise<InferenceSession>>();

async function gemmSession(d: number): Promise<InferenceSession> {
  let s = sessions.get(d);
  if (!s) {
    s = (async () => {
      const ort = await import('onnxruntime-node');
      const b = new ModelBuilder(17);
      const y = b.op('Gemm', [b.input('a', ['rows', d]), b.input('b', ['cols', d])], { transB: 1 });
      y.elemType = DataType.FLOAT;
      y.shape = ['rows', 'cols'];
      b.output(y);
      return ort.InferenceSession.create(encodeModel(b.build()));
    })();
    sessions.set(d, s);
  }
  return s;
}

/** Frees the cached onnxruntime sessions (they hold no weights, only MLAS state). */
export async function releaseGramSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of all) await (await s).release();
}

/**
 * The GEMM on onnxruntime's MLAS kernels: block i multiplies rows [r0, r1) by rows [r0, n) transposed, so only the
 * upper triangle (plus the diagonal blocks) is computed. Inputs are views of `rows`: nothing is copied or transposed.
 */
async function onnxruntimeGram({ rows, n, d }: UnitVectors, sink: GramBlockSink, start: number, end: number): Promise<void> {
  const ort = await import('onnxruntime-node');
  const session = await gemmSession(d);
  const [aName, bName] = session.inputNames as [string, string];
  const outName = session.outputNames[0]!;
  const height = blockRows(n, Math.min(BLOCK_ROWS, Math.max(MIN_BLOCK_ROWS, Math.ceil(n / 8))));
  for (let r0 = start; r0 < end; r0 += height) {
    const r1 = Math.min(end, r0 + height);
    const a = new ort.Tensor('float32', rows.subarray(r0 * d, r1 * d), [r1 - r0, d]);
    const b = new ort.Tensor('float32', rows.subarray(r0 * d, n * d), [n - r0, d]);
    const out = await session.run({ [aName]: a, [bName]: b });
    sink(r0, r1, out[outName]!.data as Float32Array);
  }
}
