/**
 * The real trained MobileNetV2 of the latency bench: nsfwjs 4.4.0's bundled `mobilenet_v2` (Keras, 224×224, 5
 * classes), fetched with `npm pack` into a temporary folder (never committed), converted by tfjs2onnx.ts to
 * bench/out/nsfwjs_mobilenet_v2.onnx, and checked against TensorFlow.js's own prediction (tfjs-layers on the CPU
 * backend) on a few images before use.
 *
 *   npx tsx bench/nsfwjs.ts          # fetch, convert, check; prints the largest difference
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { saveModel } from '../src/ir/save.js';
import { ort } from '../src/runtime/ort.js';
import { here } from './bigModels.js';
import { convertLayersModel, loadNsfwjsMobileNetV2, type LayersModelArtifacts } from './tfjs2onnx.js';

export const NSFWJS = 'nsfwjs@4.4.0';

/** bench/out/nsfwjs_mobilenet_v2.onnx, made (and checked) when missing. */
export async function nsfwjsMobileNetV2(): Promise<string> {
  const path = here('./out/nsfwjs_mobilenet_v2.onnx');
  if (existsSync(path)) return path;
  const dir = mkdtempSync(join(tmpdir(), 'nsfwjs-'));
  try {
    console.log(`fetching ${NSFWJS} with npm pack into ${dir}`);
    const tarball = execFileSync('npm', ['pack', NSFWJS, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').at(-1)!;
    execFileSync('tar', ['xzf', tarball], { cwd: dir });
    const artifacts = loadNsfwjsMobileNetV2(join(dir, 'package'));
    const model = convertLayersModel(artifacts);
    const check = await checkAgainstTfjs(artifacts, model);
    console.log(`converted: ${check}`);
    saveModel(model, path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return path;
}

/**
 * Runs the Keras model in tfjs (tfjs-layers, CPU backend) and the converted model in onnxruntime on the same
 * images — Fashion-MNIST pictures scaled up to 224×224 when Debian's dataset is installed, and seeded noise — and
 * throws when their class probabilities differ by more than 1e-4 or the top-1 classes disagree.
 */
async function checkAgainstTfjs(artifacts: LayersModelArtifacts, model: Parameters<typeof saveModel>[0]): Promise<string> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const layers = await import('@tensorflow/tfjs-layers');
  await tf.setBackend('cpu');
  const keras = await layers.loadLayersModel(tf.io.fromMemory({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs, weightData: artifacts.weightData }));
  const images = checkImages();
  const n = images.length / (224 * 224 * 3);
  const nhwc = tf.tensor4d(images, [n, 224, 224, 3]);
  const expected = (keras.predict(nhwc) as import('@tensorflow/tfjs-core').Tensor).dataSync() as Float32Array;
  const nchw = tf.transpose(nhwc, [0, 3, 1, 2]).dataSync() as Float32Array;
  const { encodeModel } = await import('../src/ir/save.js');
  const session = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ['cpu'] });
  const got = (await session.run({ input: new ort.Tensor('float32', nchw, [n, 3, 224, 224]) }))[session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  const classes = expected.length / n;
  let maxDiff = 0;
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const e = expected.subarray(i * classes, (i + 1) * classes);
    const g = got.subarray(i * classes, (i + 1) * classes);
    for (let k = 0; k < classes; k++) maxDiff = Math.max(maxDiff, Math.abs(e[k]! - g[k]!));
    if (argmax(e) === argmax(g)) agree++;
  }
  const line = `${n} images, max |Δ probability| ${maxDiff.toExponential(2)} vs tfjs, top-1 agrees on ${agree}/${n}`;
  if (maxDiff > 1e-4 || agree !== n) throw new Error(`the converted model does not match tfjs: ${line}`);
  return line;
}

/** NHWC float images in [0, 1]: up to 6 Fashion-MNIST test images (nearest-neighbour ×8, grey → RGB) and 2 of seeded noise. */
function checkImages(): Float32Array {
  const out: number[] = [];
  const idx = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte';
  const file = [idx, `${idx}.gz`].find(existsSync);
  if (file) {
    const raw = file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
    for (let i = 0; i < 6; i++) {
      for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) {
        const v = raw[16 + i * 784 + Math.floor(y / 8) * 28 + Math.floor(x / 8)]! / 255;
        out.push(v, v, v);
      }
    }
  }
  let a = 7;
  for (let i = 0; i < 2 * 224 * 224 * 3; i++) out.push((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Float32Array.from(out);
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await nsfwjsMobileNetV2());
