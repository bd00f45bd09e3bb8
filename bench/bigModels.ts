/**
 * The full-size models the prune and latency benches run on, and the variants derived from them (all under the
 * git-ignored bench/out/): torchvision exports made by make_big_models.py, a copy with a symbolic batch dimension
 * (the exports fix it at 1), and a copy whose Conv/Gemm weights carry a low-rank structure, so that the similarity
 * graphs have edges (random weights give none above τ = 0.2, and the centrality solver would never run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { constantSource } from '../src/ir/constants.js';
import { DataType } from '../src/ir/dtype.js';
import { loadModel } from '../src/ir/load.js';
import { saveModel } from '../src/ir/save.js';
import { inferShapes } from '../src/ir/shapeInference.js';
import { Tensor } from '../src/ir/tensor.js';

export const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
export const PYTHON = '/usr/bin/python3';
export type BigModel = 'vgg16' | 'resnet50' | 'mobilenet_v3_large' | 'efficientnet_b0';

/** bench/out/<name>.onnx, exported by make_big_models.py when missing (vgg16: ~12 s and 2.6 GB of RAM). */
export function bigModel(name: BigModel): string {
  const path = here(`./out/${name}.onnx`);
  if (!existsSync(path)) {
    console.log(`${path} is missing: exporting it with bench/make_big_models.py`);
    execFileSync(PYTHON, [here('./make_big_models.py'), '--model', name], { stdio: 'inherit' });
  }
  return path;
}

/** Whether `derived` exists and is newer than `source` (so it need not be made again). */
function fresh(derived: string, source: string): boolean {
  return existsSync(derived) && statSync(derived).mtimeMs >= statSync(source).mtimeMs;
}

/**
 * A copy of `source` whose graph inputs and outputs have a symbolic first dimension 'batch', shapes re-inferred,
 * so it runs at any batch size. The declared input/output entries are dropped so the new dims are written.
 */
export function dynamicBatchCopy(source: string, target: string): string {
  if (fresh(target, source)) return target;
  const model = loadModel(source);
  const g = model.graph;
  for (const v of [...g.inputs, ...g.outputs]) {
    if (v.shape?.length) v.shape = ['batch', ...v.shape.slice(1)];
    g.inputProtos.delete(v);
    g.outputProtos.delete(v);
  }
  inferShapes(model, { overwrite: true });
  saveModel(model, target);
  return target;
}

/**
 * A copy of `source` whose Conv/Gemm weights (as rows along the output-channel axis, axis 0 here) are replaced by
 * the rank-4 signal + noise of bench/centrality_reference.py (w = U·V + 2·N, U, V, N standard normal; ~19 % of
 * fc1's pairs above τ = 0.2), rescaled to the original weight's RMS. Seeded, so every run builds the same file.
 */
export function structuredCopy(source: string, target: string, seed = 1): string {
  if (fresh(target, source)) return target;
  const model = loadModel(source);
  const normal = gaussian(seed);
  for (const node of model.graph.nodes) {
    if (node.opType !== 'Conv' && node.opType !== 'Gemm') continue;
    if (node.opType === 'Gemm' && node.getInt('transB', 0) !== 1) continue;
    const src = constantSource(node.input(1));
    if (!src || src.through.length > 0 || src.tensor.dataType !== DataType.FLOAT || !src.stored.initializer) continue;
    const old = src.tensor.toFloat32();
    const [n, ...rest] = src.tensor.dims;
    const d = rest.reduce((p, x) => p * x, 1);
    const w = lowRankPlusNoise(n!, d, normal);
    const scale = rms(old) / rms(w);
    for (let i = 0; i < w.length; i++) w[i] = w[i]! * scale;
    src.stored.initializer = Tensor.fromFloat32(src.tensor.name, src.tensor.dims, w);
  }
  saveModel(model, target);
  return target;
}

function lowRankPlusNoise(n: number, d: number, normal: () => number, rank = 4, noise = 1): Float32Array {
  const u = Float32Array.from({ length: n * rank }, normal);
  const v = Float32Array.from({ length: rank * d }, normal);
  const sigma = noise * Math.sqrt(rank);
  const w = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let r = 0; r < rank; r++) s += u[i * rank + r]! * v[r * d + k]!;
      w[i * d + k] = s + sigma * normal();
    }
  }
  return w;
}

function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, x.length)) || 1;
}

/** Seeded standard normals: mulberry32 uniforms through Box–Muller. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const th = 2 * Math.PI * uniform();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/** "1.23 0.98 0.77" — the 1, 5 and 15 minute load averages (2 cores here, shared with other work). */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** One line naming the machine and runtime the figures come from. */
export function machineLine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
}

/** Fails early with the command to run when the CLI has not been built (the benches run dist/, as users do). */
export function requireBuild(): void {
  if (!existsSync(here('../dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const built = statSync(here('../dist/src/passes/centralityPrune.js')).mtimeMs;
  if (statSync(here('../src/passes/centralityPrune.ts')).mtimeMs > built) console.warn('warning: src/ is newer than dist/: run `npm run build` for current figures');
}

/**
 * Writes the bench's generated text into `path` between the markers <!-- bench:begin KEY --> and
 * <!-- bench:end KEY -->, keeping whatever was written by hand around them (notes, explanations, before/after
 * figures) and the sections of other keys (e.g. another thread count).
 */
export function writeResults(path: string, title: string, key: string, generated: string): void {
  const begin = `<!-- bench:begin ${key} (generated: rewritten by the bench up to bench:end) -->`;
  const end = `<!-- bench:end ${key} -->`;
  const old = existsSync(path) ? readFileSync(path, 'utf8') : `# ${title}\n`;
  const a = old.indexOf(`<!-- bench:begin ${key} (`);
  const b = old.indexOf(end);
  const body = `${begin}\n${generated.trim()}\n${end}`;
  writeFileSync(path, a >= 0 && b > a ? old.slice(0, a) + body + old.slice(b + end.length) : `${old.trimEnd()}\n\n${body}\n`);
}
