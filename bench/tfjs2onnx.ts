/**
 * A small TensorFlow.js LayersModel → ONNX converter, for the latency bench's real trained MobileNetV2 (nsfwjs
 * 4.4.0's `mobilenet_v2`: Keras 2.2.4 layers, uint8-quantised weights). It converts the layers that model uses —
 * InputLayer, ZeroPadding2D (folded into the next conv's pads), Conv2D, DepthwiseConv2D, BatchNormalization, ReLU
 * (max_value 6 → Clip), Add, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dense, Dropout, Activation — and
 * refuses anything else by name. The ONNX model takes NCHW input [batch, C, H, W] (the Keras model NHWC), so the
 * pruner sees channels on axis 1 like a torchvision export; `checkAgainstTfjs` runs both on the same images.
 *
 * bench/nsfwjs.ts fetches the package, converts it and checks the result against tfjs.
 */
import { createRequire } from 'node:module';
import { ModelBuilder } from '../src/ir/builder.js';
import type { Model } from '../src/ir/model.js';
import type { Value } from '../src/ir/value.js';

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { min?: number; scale?: number; dtype: string };
}
export interface LayersModelArtifacts {
  modelTopology: { model_config: { class_name: string; config: { layers: KerasLayer[]; input_layers: unknown[]; output_layers: [string, number, number][] } } };
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

/** nsfwjs's bundled mobilenet_v2: the model JSON and its base64 weight shard, both as UMD modules. */
export function loadNsfwjsMobileNetV2(packageDir: string): LayersModelArtifacts {
  const req = createRequire(`${packageDir}/package.json`);
  const unwrap = <T>(m: unknown): T => ((m as { default?: T }).default ?? m) as T;
  const json = unwrap<{ modelTopology: LayersModelArtifacts['modelTopology']; weightsManifest: { paths: string[]; weights: WeightSpec[] }[] }>(req('./dist/models/mobilenet_v2/model.min.js'));
  if (json.weightsManifest.length !== 1 || json.weightsManifest[0]!.paths.length !== 1) throw new Error('expected one weight shard');
  const base64 = unwrap<string>(req('./dist/models/mobilenet_v2/group1-shard1of1.min.js'));
  const bytes = Buffer.from(base64, 'base64');
  return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
}

/** The weights as float32, dequantised as tfjs does: value = min + scale · q. */
export function decodeWeights(specs: readonly WeightSpec[], data: ArrayBuffer): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const w of specs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const q = w.quantization;
    let values: Float32Array;
    if (!q) {
      if (w.dtype !== 'float32') throw new Error(`weight ${w.name}: dtype ${w.dtype} is not supported`);
      values = new Float32Array(data.slice(offset, offset + 4 * n));
      offset += 4 * n;
    } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      const raw = q.dtype === 'uint8' ? new Uint8Array(data, offset, n) : new Uint16Array(data.slice(offset, offset + 2 * n));
      values = Float32Array.from(raw, (v) => q.min! + q.scale! * v);
      offset += raw.byteLength;
    } else throw new Error(`weight ${w.name}: ${q.dtype} quantisation is not supported`);
    out.set(w.name, { shape: w.shape, values });
  }
  if (offset !== data.byteLength) throw new Error(`the weight specs cover ${offset} of ${data.byteLength} bytes`);
  return out;
}

interface Tensor4 { value: Value; channels: number; h: number; w: number; /** Zero padding still to apply: [top, bottom, left, right]. */ pad?: number[] }

/** Converts the Keras functional model to ONNX (opset 13), input `input` [batch, C, H, W]. */
export function convertLayersModel(a: LayersModelArtifacts): Model {
  const cfg = a.modelTopology.model_config.config;
  const weights = decodeWeights(a.weightSpecs, a.weightData);
  const weight = (layer: string, key: string): { shape: number[]; values: Float32Array } => {
    const w = weights.get(`${layer}/${key}`);
    if (!w) throw new Error(`layer ${layer}: weight ${key} is missing`);
    return w;
  };
  const b = new ModelBuilder(13);
  const values = new Map<string, Tensor4>();
  const inputOf = (l: KerasLayer, i = 0): Tensor4 => {
    const src = l.inbound_nodes[0]?.[i];
    const t = src && values.get(src[0]);
    if (!t) throw new Error(`layer ${l.name}: input ${i} is not converted`);
    return t;
  };
  const flat = (t: Tensor4): Tensor4 => {
    if (!t.pad) return t;
    const [top, bottom, left, right] = t.pad;
    const v = b.op('Pad', [t.value, b.int64(`${t.value.name}_pads`, [0, 0, top!, left!, 0, 0, bottom!, right!])], {}, { name: `${t.value.name}_pad` });
    return { value: v, channels: t.channels, h: t.h + top! + bottom!, w: t.w + left! + right! };
  };

  for (const l of cfg.layers) {
    const c = l.config;
    const name = l.name;
    switch (l.class_name) {
      case 'InputLayer': {
        const [, h, w, ch] = c.batch_input_shape as number[];
        values.set(name, { value: b.input('input', ['batch', ch!, h!, w!]), channels: ch!, h: h!, w: w! });
        break;
      }
      case 'ZeroPadding2D': {
        const [[top, bottom], [left, right]] = c.padding as number[][];
        const x = inputOf(l);
        const p = x.pad ?? [0, 0, 0, 0];
        values.set(name, { ...x, pad: [p[0]! + top!, p[1]! + bottom!, p[2]! + left!, p[3]! + right!] });
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const x = inputOf(l);
        const depthwise = l.class_name === 'DepthwiseConv2D';
        const kernel = weight(name, depthwise ? 'depthwise_kernel' : 'kernel');
        const [kh, kw, cin, last] = kernel.shape as [number, number, number, number];
        const cout = depthwise ? cin * last : last;
        const [sh, sw] = c.strides as number[];
        if (((c.dilation_rate as number[]) ?? [1, 1]).some((d) => d !== 1)) throw new Error(`layer ${name}: dilation is not supported`);
        if (cin !== x.channels) throw new Error(`layer ${name}: ${cin} input channels, got ${x.channels}`);
        // Keras [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]) → ONNX [out, in / group, kh, kw]; a depthwise
        // output channel is in · multiplier + m in both.
        const w = new Float32Array(kernel.values.length);
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < cin; ci++) for (let o = 0; o < last; o++) {
          const src = kernel.values[((i * kw + j) * cin + ci) * last + o]!;
          if (depthwise) w[((ci * last + o) * kh + i) * kw + j] = src;
          else w[((o * cin + ci) * kh + i) * kw + j] = src;
        }
        const pads = convPads(c.padding as string, x, [kh, kw], [sh!, sw!]);
        const inputs = [x.value, b.weight(`${name}.weight`, depthwise ? [cout, 1, kh, kw] : [cout, cin, kh, kw], w)];
        if (c.use_bias) inputs.push(b.weight(`${name}.bias`, [cout], weight(name, 'bias').values));
        const y = b.op('Conv', inputs, { kernel_shape: [kh, kw], strides: [sh!, sw!], pads, group: depthwise ? cin : 1 }, { name });
        const h = Math.floor((x.h + pads[0]! + pads[2]! - kh) / sh!) + 1;
        const wd = Math.floor((x.w + pads[1]! + pads[3]! - kw) / sw!) + 1;
        values.set(name, { value: activation(b, y, c.activation as string, name), channels: cout, h, w: wd });
        break;
      }
      case 'BatchNormalization': {
        const x = flat(inputOf(l));
        if (c.axis !== -1 && c.axis !== 3) throw new Error(`layer ${name}: BatchNormalization over axis ${String(c.axis)}`);
        const ones = new Float32Array(x.channels).fill(1);
        const zeros = new Float32Array(x.channels);
        const y = b.op('BatchNormalization', [
          x.value,
          b.weight(`${name}.scale`, [x.channels], c.scale === false ? ones : weight(name, 'gamma').values),
          b.weight(`${name}.bias`, [x.channels], c.center === false ? zeros : weight(name, 'beta').values),
          b.weight(`${name}.mean`, [x.channels], weight(name, 'moving_mean').values),
          b.weight(`${name}.var`, [x.channels], weight(name, 'moving_variance').values),
        ], { epsilon: { float: c.epsilon as number } }, { name });
        values.set(name, { ...x, value: y });
        break;
      }
      case 'ReLU': {
        const x = flat(inputOf(l));
        if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) throw new Error(`layer ${name}: leaky or thresholded ReLU is not supported`);
        values.set(name, { ...x, value: clippedRelu(b, x.value, c.max_value as number | null | undefined, name) });
        break;
      }
      case 'Activation': {
        const x = flat(inputOf(l));
        values.set(name, { ...x, value: activation(b, x.value, c.activation as string, name) });
        break;
      }
      case 'Add': {
        const xs = l.inbound_nodes[0]!.map((_, i) => flat(inputOf(l, i)));
        let y = xs[0]!.value;
        for (const [i, x] of xs.slice(1).entries()) y = b.op('Add', [y, x.value], {}, { name: i === xs.length - 2 ? name : `${name}_${i}` });
        values.set(name, { ...xs[0]!, value: y });
        break;
      }
      case 'AveragePooling2D': {
        const x = flat(inputOf(l));
        const [ph, pw] = c.pool_size as number[];
        const [sh, sw] = (c.strides as number[] | null) ?? [ph!, pw!];
        if (c.padding !== 'valid') throw new Error(`layer ${name}: AveragePooling2D padding ${String(c.padding)} is not supported`);
        const y = b.op('AveragePool', [x.value], { kernel_shape: [ph!, pw!], strides: [sh!, sw!] }, { name });
        values.set(name, { value: y, channels: x.channels, h: Math.floor((x.h - ph!) / sh!) + 1, w: Math.floor((x.w - pw!) / sw!) + 1 });
        break;
      }
      case 'GlobalAveragePooling2D': {
        const x = flat(inputOf(l));
        const y = b.op('Flatten', [b.op('GlobalAveragePool', [x.value], {}, { name })], {}, { name: `${name}_flatten` });
        values.set(name, { value: y, channels: x.channels, h: 1, w: 1 });
        break;
      }
      case 'Flatten': {
        const x = flat(inputOf(l));
        // Keras flattens NHWC: the same order as NCHW only when H = W = 1; otherwise transpose first.
        const src = x.h === 1 && x.w === 1 ? x.value : b.op('Transpose', [x.value], { perm: [0, 2, 3, 1] }, { name: `${name}_nhwc` });
        values.set(name, { value: b.op('Flatten', [src], {}, { name }), channels: x.channels * x.h * x.w, h: 1, w: 1 });
        break;
      }
      case 'Dense': {
        const x = inputOf(l);
        const k = weight(name, 'kernel');
        const [fin, fout] = k.shape as [number, number];
        if (fin !== x.channels) throw new Error(`layer ${name}: ${fin} inputs, got ${x.channels}`);
        const inputs = [x.value, b.weight(`${name}.weight`, [fin, fout], k.values)];
        if (c.use_bias) inputs.push(b.weight(`${name}.bias`, [fout], weight(name, 'bias').values));
        const y = b.op('Gemm', inputs, {}, { name });
        values.set(name, { value: activation(b, y, c.activation as string, name), channels: fout, h: 1, w: 1 });
        break;
      }
      case 'Dropout':
        values.set(name, inputOf(l)); // inference: the identity
        break;
      default:
        throw new Error(`layer ${name}: Keras layer ${l.class_name} is not supported by this converter`);
    }
  }
  for (const [layer] of cfg.output_layers) b.output(values.get(layer)!.value);
  return b.build();
}

/** ONNX pads [top, left, bottom, right] for Keras padding, with any ZeroPadding2D in front folded in. */
function convPads(padding: string, x: Tensor4, k: number[], s: number[]): number[] {
  const [top, bottom, left, right] = x.pad ?? [0, 0, 0, 0];
  if (padding === 'valid') return [top!, left!, bottom!, right!];
  if (padding !== 'same') throw new Error(`conv padding ${padding} is not supported`);
  if (x.pad) throw new Error("ZeroPadding2D before a 'same' conv is not supported");
  // TensorFlow's SAME: total = max((⌈in/s⌉ − 1)·s + k − in, 0), the odd pixel at the end.
  const total = [x.h, x.w].map((n, i) => Math.max((Math.ceil(n / s[i]!) - 1) * s[i]! + k[i]! - n, 0));
  return [Math.floor(total[0]! / 2), Math.floor(total[1]! / 2), total[0]! - Math.floor(total[0]! / 2), total[1]! - Math.floor(total[1]! / 2)];
}

function clippedRelu(b: ModelBuilder, x: Value, max: number | null | undefined, name: string): Value {
  if (max === null || max === undefined) return b.op('Relu', [x], {}, { name });
  return b.op('Clip', [x, b.weight(`${name}.min`, [], [0]), b.weight(`${name}.max`, [], [max])], {}, { name });
}

function activation(b: ModelBuilder, x: Value, kind: string, name: string): Value {
  switch (kind) {
    case 'linear': return x;
    case 'relu': return b.op('Relu', [x], {}, { name: `${name}_relu` });
    case 'relu6': return clippedRelu(b, x, 6, `${name}_relu6`);
    case 'sigmoid': return b.op('Sigmoid', [x], {}, { name: `${name}_sigmoid` });
    case 'softmax': return b.op('Softmax', [x], { axis: -1 }, { name: `${name}_softmax` });
    default: throw new Error(`layer ${name}: activation ${kind} is not supported`);
  }
}
