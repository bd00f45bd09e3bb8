import * as tf from '@tensorflow/tfjs-core';
import { fail, UserError } from '../ir/errors.js';
import type { Model } from '../ir/model.js';
import type { Node } from '../ir/node.js';
import type { Value } from '../ir/value.js';
import { held, type Held, toOnnx } from './held.js';
import { type KernelChoice, OpContext, type RunSettings } from './opContext.js';
import { OPS } from './ops/index.js';
import { ParameterTable } from './parameters.js';
import { Rng } from '../ir/random.js';

export interface ExecutorOptions {
  /** Which stored constants (initializers / Constant outputs) become trainable variables; default none. */
  trainable?: (stored: Value) => boolean;
  /** Conv / depthwise / gather gradients: 'auto' (see kernelChoice), or 'always' / 'never' custom (tests, benchmarks). */
  customGradients?: 'auto' | 'always' | 'never';
  /** Seed of the stream dropout draws from. */
  seed?: number;
}

/**
 * Runs an IR graph with tfjs ops, so the model can train: every constant is a tfjs tensor, trainable ones are
 * variables, and tfjs records gradients through the ops. Values are fed and returned in ONNX layout (NCHW).
 */
export class Executor {
  readonly params: ParameterTable;
  private readonly kernels: KernelChoice;
  private readonly random: Rng;
  private readonly plans = new Map<string, Node[]>();

  constructor(readonly model: Model, opts: ExecutorOptions = {}) {
    this.params = new ParameterTable(model.graph, opts.trainable ?? (() => false));
    this.kernels = kernelChoice(opts.customGradients ?? 'auto');
    this.random = new Rng(opts.seed ?? 0);
  }

  /** Trainable variables, keyed by the stored value each one replaces on write-back. */
  get variables(): ReadonlyMap<Value, tf.Variable> {
    return this.params.variables;
  }

  /**
   * Computes `outputs` from `feeds` (graph inputs, or any inner value to start from there). Only the nodes between
   * them run. Call inside tf.tidy / an optimizer's minimize when training; intermediate tensors are tidied here.
   */
  run(feeds: ReadonlyMap<Value, tf.Tensor>, outputs: readonly Value[], opts: { training?: boolean } = {}): tf.Tensor[] {
    const plan = this.plan(feeds, outputs);
    const settings: RunSettings = {
      training: opts.training ?? false,
      opset: this.model.opsetVersion,
      kernels: this.kernels,
      nextSeed: () => this.random.int(2 ** 31),
    };
    return tf.tidy(() => {
      const env = new Map<Value, Held>();
      for (const [v, t] of feeds) env.set(v, held(t));
      for (const node of plan) {
        const args = node.inputs.map((v) => (v ? env.get(v) ?? this.constant(v) : undefined));
        const ctx = new OpContext(node, args, settings);
        const impl = OPS[node.opType]!;
        const results = tf.tidy(() => {
          try {
            const r = impl(ctx);
            return Array.isArray(r) ? r : [r];
          } catch (e) {
            // tfjs shape errors here come from the model (a batch size baked into a Reshape, say): name the node.
            if (e instanceof UserError) throw e;
            fail(`${node.opType} node '${node.label}' failed: ${(e as Error).message.split('\n')[0]}`);
          }
        });
        node.outputs.forEach((v, i) => {
          if (v && results[i]) env.set(v, results[i]);
        });
      }
      return outputs.map((v) => {
        const h = env.get(v) ?? this.constant(v);
        return h.nhwc ? toOnnx(h) : h.t;
      });
    });
  }

  /** Runs the whole graph on its inputs (given in graph-input order) and returns its outputs. */
  predict(inputs: readonly tf.Tensor[], opts: { training?: boolean } = {}): tf.Tensor[] {
    const g = this.model.graph;
    const fed = g.inputs.filter((v) => !v.initializer);
    if (inputs.length !== fed.length) fail(`the model takes ${fed.length} inputs, ${inputs.length} given`);
    return this.run(new Map(fed.map((v, i) => [v, inputs[i]!])), g.outputs, opts);
  }

  dispose(): void {
    this.params.dispose();
  }

  private constant(v: Value): Held {
    const t = this.params.get(v);
    if (!t) fail(`value '${v.name}' was neither fed nor computed`);
    return held(t);
  }

  /** The nodes that compute `outputs` from the feeds and constants, in dependency order. */
  private plan(feeds: ReadonlyMap<Value, tf.Tensor>, outputs: readonly Value[]): Node[] {
    const key = [...[...feeds.keys()].map((v) => v.name).sort(), '→', ...outputs.map((v) => v.name)].join('\u0000');
    const cached = this.plans.get(key);
    if (cached) return cached;
    const order: Node[] = [];
    const seen = new Set<Node>();
    // Iterative post-order DFS: real graphs have dependency chains deeper than a comfortable call stack.
    const stack: { node: Node; next: number }[] = [];
    const enter = (v: Value): void => {
      if (feeds.has(v) || this.params.has(v)) return;
      const p = v.producer();
      if (!p) fail(v.isGraphInput() ? `graph input '${v.name}' was not given` : `value '${v.name}' has no producer`);
      if (seen.has(p)) return;
      seen.add(p);
      checkSupported(p);
      stack.push({ node: p, next: 0 });
    };
    for (const out of outputs) {
      enter(out);
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        const input = top.node.inputs[top.next++];
        if (top.next > top.node.inputs.length) {
          stack.pop();
          order.push(top.node);
        } else if (input) {
          enter(input);
        }
      }
    }
    this.plans.set(key, order);
    return order;
  }
}

function checkSupported(node: Node): void {
  const standard = node.domain === '' || node.domain === 'ai.onnx';
  if (!standard || !OPS[node.opType]) {
    const op = standard ? node.opType : `${node.domain}.${node.opType}`;
    fail(`the training executor cannot run op ${op} (node '${node.label}')`);
  }
}

/**
 * `auto`: the custom conv and depthwise gradients on every backend but native TensorFlow — wasm lacks the kernels
 * tfjs's own need, and on the cpu backend the custom ones are faster too (cnn_small, batch 64: 2.4 s against 5.7 s
 * per step); the custom gather gradient only where UnsortedSegmentSum is missing; the explicitly transposing 2-D
 * product gradient on wasm, where transposed products are slow (on cpu they cost the same either way).
 */
function kernelChoice(mode: 'auto' | 'always' | 'never'): KernelChoice {
  if (mode !== 'auto') {
    const v = mode === 'always';
    return { customConvGrad: v, customDepthwiseGrad: v, customGatherGrad: v, customMatMulGrad: v };
  }
  const backend = tf.getBackend();
  const missing = (...kernels: string[]): boolean => kernels.some((k) => !tf.getKernel(k, backend));
  const native = backend === 'tensorflow';
  return {
    customConvGrad: !native || missing('Conv2DBackpropFilter', 'Conv2DBackpropInput'),
    customDepthwiseGrad: !native || missing('DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'),
    customGatherGrad: missing('UnsortedSegmentSum'),
    customMatMulGrad: backend === 'wasm',
  };
}
