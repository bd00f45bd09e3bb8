import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AttrType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
  type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';
import type { Graph } from './graph.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import { tensorTypeOf, type Value } from './value.js';

/** Hook to replace how an initializer's TensorProto is written (used to move data to external files). */
export type TensorWriter = (v: Value) => TensorProto;

/** Builds the ModelProto for the IR. Untouched parts reuse the protos they were read from, so they encode identically. */
export function modelToProto(model: Model, writeTensor: TensorWriter = defaultTensor): ModelProto {
  const m: ModelProto = create(ModelProtoSchema, { ...model.proto });
  m.graph = graphToProto(model.graph, writeTensor);
  return m;
}

/** As stored: external data stays a reference to its file; a computed tensor (a slice of one) is computed in. */
function defaultTensor(v: Value): TensorProto {
  const t = v.initializer!;
  if (!t.external) return t.inlineProto(v.name);
  return t.proto.name === v.name ? t.proto : { ...t.proto, name: v.name };
}

export function graphToProto(g: Graph, writeTensor: TensorWriter = defaultTensor): GraphProto {
  // Spreading keeps only the fields that were set (proto2 presence); compare against the original for the rest.
  const base: GraphProto = g.proto ? { ...g.proto } : create(GraphProtoSchema);
  if ((g.proto?.name ?? '') !== g.name) base.name = g.name;
  base.node = g.nodes.map((n) => nodeToProto(n, writeTensor));
  base.initializer = g.initializers.map(writeTensor);
  base.input = g.inputs.map((v) => valueInfoFor(v, g.inputProtos.get(v)));
  base.output = g.outputs.map((v) => valueInfoFor(v, g.outputProtos.get(v)));
  base.valueInfo = g.valueInfo.map((v) => valueInfoFor(v, v.infoProto));
  return base;
}

function nodeToProto(n: Node, writeTensor: TensorWriter): NodeProto {
  const base: NodeProto = n.proto ? { ...n.proto } : create(NodeProtoSchema);
  base.input = n.inputs.map((v) => v?.name ?? '');
  base.output = n.outputs.map((v) => v?.name ?? '');
  if ((n.proto?.opType ?? '') !== n.opType) base.opType = n.opType;
  if ((n.proto?.name ?? '') !== n.name) base.name = n.name;
  if ((n.proto?.domain ?? '') !== n.domain) base.domain = n.domain;
  base.attribute = n.subgraphs.size === 0 ? [...n.attributes] : n.attributes.map((a) => attributeToProto(a, n, writeTensor));
  return base;
}

function attributeToProto(a: AttributeProto, n: Node, writeTensor: TensorWriter): AttributeProto {
  const subs = n.subgraphs.get(a.name);
  if (!subs) return a;
  if (a.type === AttrType.GRAPH) return { ...a, g: graphToProto(subs[0]!, writeTensor) };
  return { ...a, graphs: subs.map((g) => graphToProto(g, writeTensor)) };
}

/**
 * The value_info entry for a value: the original entry while it agrees with the value's type (information
 * inferred later is not written into it), else a copy with the dims and element type the value now has.
 */
export function valueInfoFor(v: Value, original: ValueInfoProto | undefined): ValueInfoProto {
  if (original) {
    const declared = tensorTypeOf(original.type);
    if (original.name === v.name && !conflicts(declared, v)) return original;
    return { ...original, name: v.name, type: tensorTypeProto(v, original) };
  }
  return create(ValueInfoProtoSchema, { name: v.name, type: tensorTypeProto(v, undefined) });
}

function conflicts(declared: ReturnType<typeof tensorTypeOf>, v: Value): boolean {
  if (declared.elemType !== undefined && v.elemType !== undefined && declared.elemType !== v.elemType) return true;
  // Loading copies a declared shape into the value, so a value without one now had it cleared by a pass.
  if (declared.shape && !v.shape) return true;
  if (!declared.shape || !v.shape) return false;
  if (declared.shape.length !== v.shape.length) return true;
  return declared.shape.some((d, i) => typeof d === 'number' && typeof v.shape![i] === 'number' && d !== v.shape![i]);
}

function tensorTypeProto(v: Value, original: ValueInfoProto | undefined) {
  const old = original?.type?.value.case === 'tensorType' ? original.type.value.value : undefined;
  const oldDims = old?.shape?.dim ?? [];
  const shape = v.shape
    ? create(TensorShapeProtoSchema, {
      dim: v.shape.map((d, i) => {
        const prev = oldDims[i];
        if (typeof d === 'number') return create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) }, denotation: prev?.denotation ?? '' });
        if (typeof d === 'string') return create(TensorShapeProto_DimensionSchema, { value: { case: 'dimParam', value: d }, denotation: prev?.denotation ?? '' });
        return create(TensorShapeProto_DimensionSchema, {});
      }),
    })
    : undefined;
  const tensor = create(TypeProto_TensorSchema, { elemType: v.elemType ?? old?.elemType ?? 0, ...(shape ? { shape } : {}) });
  const value = { case: 'tensorType' as const, value: tensor };
  return original?.type ? { ...original.type, value } : create(TypeProtoSchema, { value });
}
