import * as tf from '@tensorflow/tfjs-core';
import { constantNumbers } from '../ir/constants.js';
import { fail } from '../ir/errors.js';
import type { Node } from '../ir/node.js';
import { type Held, onnxShape, toNhwc, toOnnx } from './held.js';

/** Which gradient paths to take on this backend (custom ones where tfjs's need kernels the backend lacks). */
export interface KernelChoice {
  customConvGrad: boolean;
  customDepthwiseGrad: boolean;
  customGatherGrad: boolean;
  /** 2-D products whose gradients transpose explicitly (matMulGradient.ts). */
  customMatMulGrad: boolean;
}

/** What one run shares with every op. */
export interface RunSettings {
  /** Dropout active; nothing else changes (BatchNormalization always uses its stored statistics). */
  readonly training: boolean;
  readonly opset: number;
  readonly kernels: KernelChoice;
  /** A fresh seed for random ops (dropout), from the executor's seeded stream. */
  nextSeed(): number;
}

/** The view an op implementation gets of its node: attributes, inputs in either layout, and helpers. */
export class OpContext {
  constructor(
    readonly node: Node,
    private readonly args: readonly (Held | undefined)[],
    readonly run: RunSettings,
  ) {}

  get opset(): number {
    return this.run.opset;
  }

  /** True when optional input i was given. */
  has(i: number): boolean {
    return this.args[i] !== undefined;
  }

  input(i: number): Held {
    const h = this.args[i];
    if (!h) this.fail(`input ${i} is missing`);
    return h;
  }

  /** Input i in ONNX axis order. */
  onnx(i: number): tf.Tensor {
    return toOnnx(this.input(i));
  }

  /** Input i (a 4-D NCHW value) channels-last. */
  nhwc(i: number): tf.Tensor4D {
    return toNhwc(this.input(i));
  }

  /** Input i's ONNX dims. */
  dims(i: number): number[] {
    return onnxShape(this.input(i));
  }

  /** Input i as numbers (shapes, axes, pads): read from the model when constant, else from the tensor. */
  numbers(i: number): number[] {
    const fromModel = constantNumbers(this.node.input(i));
    if (fromModel) return fromModel;
    return Array.from(this.onnx(i).dataSync());
  }

  /** Input i as numbers when given (optional inputs may be absent or empty). */
  optionalNumbers(i: number): number[] | undefined {
    return this.has(i) ? this.numbers(i) : undefined;
  }

  /** True when the node's output i is consumed or is a graph output. */
  wantsOutput(i: number): boolean {
    const v = this.node.outputs[i];
    return !!v && (v.uses().length > 0 || v.isGraphOutput());
  }

  fail(message: string): never {
    fail(`${this.node.opType} node '${this.node.label}': ${message}`);
  }
}

/** An op implementation: returns its outputs in order (a single Held for single-output ops). */
export type OpImpl = (c: OpContext) => Held | Held[];
