import { create } from '@bufbuild/protobuf';
import { ModelProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
import { DataType } from './dtype.js';
import { Graph } from './graph.js';
import { Model } from './model.js';
import { mulberry32 } from './random.js';
import { inferShapes } from './shapeInference.js';
import type { Node } from './node.js';
import { Tensor } from './tensor.js';
import type { Dim, Value } from './value.js';

export type AttrValue = number | number[] | string | Tensor | { float: number } | { floats: number[] };

/**
 * Builds small models in code, for unit tests and examples:
 *   const b = new ModelBuilder(); const x = b.input('x', [1, 3, 8, 8]);
 *   const y = b.op('Conv', [x, b.weight('w', [4, 3, 3, 3])], { pads: [1, 1, 1, 1] }); b.output(y); b.build();
 */
export class ModelBuilder {
  readonly graph = new Graph({ name: 'main' });
  private counter = 0;
  private readonly random: () => number;

  constructor(readonly opset = 17, seed = 1) {
    this.random = mulberry32(seed);
  }

  input(name: string, shape: Dim[], elemType: number = DataType.FLOAT): Value {
    const v = this.graph.value(name);
    v.shape = shape;
    v.elemType = elemType;
    this.graph.inputs.push(v);
    return v;
  }

  /** A float initializer with deterministic pseudo-random values in [-scale, scale] (or the given data). */
  weight(name: string, dims: number[], data?: Float32Array | number[], scale = 0.5, dataType: number = DataType.FLOAT): Value {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = data ? Float32Array.from(data) : Float32Array.from({ length: n }, () => (this.random() * 2 - 1) * scale);
    if (values.length !== n) throw new Error(`weight ${name}: ${values.length} values for dims [${dims}]`);
    return this.graph.addInitializer(Tensor.fromFloat32(name, dims, values, dataType));
  }

  int64(name: string, values: number[], dims: number[] = [values.length]): Value {
    return this.graph.addInitializer(Tensor.fromInt64(name, dims, values));
  }

  /** Appends a node; returns its first output (see `node` for all of them). */
  op(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}, opts: { outputs?: number; name?: string; domain?: string } = {}): Value {
    return this.node(opType, inputs, attrs, opts).output(0);
  }

  node(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrValue> = {}, opts: { outputs?: number; name?: string; domain?: string } = {}): Node {
    const id = this.counter++;
    const name = opts.name ?? `${opType.toLowerCase()}_${id}`;
    const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${name}_out${i}`);
    const node = this.graph.addNode(opType, inputs, outs, { name, domain: opts.domain ?? '' });
    for (const [k, v] of Object.entries(attrs)) {
      if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor)) {
        if ('float' in v) node.setAttr(k, v.float, 'float');
        else node.setAttr(k, v.floats, 'floats');
      } else node.setAttr(k, v);
    }
    return node;
  }

  output(v: Value): void {
    this.graph.outputs.push(v);
  }

  build(): Model {
    const proto = create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'onnx-cprune-builder',
      opsetImport: [
        create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(this.opset) }),
        // Every other domain the nodes use, at version 1: a model must import the domains of its ops.
        ...[...new Set(this.graph.nodes.map((n) => n.domain))].filter((d) => d !== '' && d !== 'ai.onnx').map((domain) => create(OperatorSetIdProtoSchema, { domain, version: 1n })),
      ],
    });
    const model = new Model(proto, this.graph, process.cwd());
    // Graph outputs need a type to be valid ONNX; shape inference supplies it.
    inferShapes(model);
    return model;
  }
}

