import type { Model } from '../../src/ir/model.js';
import { ort } from '../../src/runtime/ort.js';
import { openSession } from '../../src/runtime/session.js';

/** Deterministic standard-normal values (Box-Muller over mulberry32) for test tensors. */
export function seededNormal(shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()));
}

/** Largest |a - b| over the larger of 1 and the reference's largest magnitude. */
export function maxRelativeDeviation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst / scale;
}

/** Runs a model in onnxruntime (CPU) on float inputs; returns every output's data and dims. */
export async function runOrt(model: Model, inputs: Record<string, { data: Float32Array; dims: number[] }>): Promise<{ data: Float32Array; dims: number[] }[]> {
  const { session } = await openSession(model, { ep: 'cpu' });
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]));
    const out = await session.run(feeds);
    return session.outputNames.map((n) => ({ data: out[n]!.data as Float32Array, dims: out[n]!.dims.map(Number) }));
  } finally {
    await session.release();
  }
}
