import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { DataType, bfloat16ToFloat, dataTypeName, elementSize, floatToBfloat16, floatToHalf, halfToFloat } from './dtype.js';
import { fail } from './errors.js';
import type { ExternalDataSource } from './externalData.js';

/** Largest element count we accept in one tensor: beyond this the dims are an allocation bomb, not a model. */
export const MAX_ELEMENTS = 2 ** 40;

/**
 * An ONNX tensor. It wraps the TensorProto it was read from, so a tensor no pass touched is written back exactly;
 * raw_data stays a view into the model file, and external data is read only when asked for.
 */
export class Tensor {
  readonly proto: TensorProto;
  /** Where the bytes live when the tensor uses external data. */
  readonly external: ExternalDataSource | undefined;

  constructor(proto: TensorProto, external?: ExternalDataSource) {
    this.proto = proto;
    this.external = external;
  }

  get name(): string { return this.proto.name; }
  get dataType(): number { return this.proto.dataType; }
  get dims(): number[] { return this.proto.dims.map(Number); }
  get numel(): number { return numelOf(this.proto.dims); }
  /** Bytes the elements take, whether stored raw, in typed fields or externally. */
  get byteLength(): number {
    const size = elementSize(this.dataType);
    if (size === undefined) return this.proto.stringData.reduce((n, s) => n + s.byteLength, 0);
    return Math.ceil(this.numel * size);
  }

  /** Checks the stored data agrees with dims; throws a UserError naming the tensor if it does not. */
  validate(): void {
    const p = this.proto;
    for (const d of p.dims) if (d < 0n) fail(`tensor '${p.name}' has a negative dimension ${d}`);
    const n = this.numel;
    if (n > MAX_ELEMENTS) fail(`tensor '${p.name}' declares ${n} elements (dims [${p.dims.join(', ')}]): refusing an absurd allocation`);
    const size = elementSize(p.dataType);
    if (this.external) {
      if (size !== undefined && this.external.length !== Math.ceil(n * size))
        fail(`tensor '${p.name}': external data holds ${this.external.length} bytes but dims [${p.dims.join(', ')}] of ${dataTypeName(p.dataType)} need ${Math.ceil(n * size)}`);
      return;
    }
    if (size === undefined) {
      if (p.dataType === DataType.STRING && p.stringData.length !== n && !(n === 0 && p.stringData.length === 0))
        fail(`tensor '${p.name}': ${p.stringData.length} strings but dims need ${n}`);
      return;
    }
    const stored = storedCount(p);
    if (stored.raw) {
      const need = Math.ceil(n * size);
      if (p.rawData.byteLength !== need)
        fail(`tensor '${p.name}': raw_data holds ${p.rawData.byteLength} bytes but dims [${p.dims.join(', ')}] of ${dataTypeName(p.dataType)} need ${need}`);
    } else if (stored.count !== 0 && stored.count !== n * stored.perElement) {
      fail(`tensor '${p.name}': holds ${stored.count} values but dims [${p.dims.join(', ')}] need ${n * stored.perElement}`);
    }
  }

  /** Little-endian element bytes, as raw_data would hold them. Zero-copy for raw_data tensors. */
  bytes(): Uint8Array {
    if (this.external) return this.external.read();
    const p = this.proto;
    if (p.rawData.byteLength > 0 || storedCount(p).count === 0) return p.rawData;
    return typedFieldsToBytes(p);
  }

  /** Values as float32, whatever the stored type (float16/bfloat16/double/integers are converted). */
  toFloat32(): Float32Array {
    const b = this.bytes();
    const n = this.numel;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (this.dataType) {
      case DataType.FLOAT:
        if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, n).slice();
        return new Float32Array(Uint8Array.prototype.slice.call(b).buffer, 0, n); // Buffer#slice would be a view
      case DataType.FLOAT16: return Float32Array.from({ length: n }, (_, i) => halfToFloat(dv.getUint16(2 * i, true)));
      case DataType.BFLOAT16: return Float32Array.from({ length: n }, (_, i) => bfloat16ToFloat(dv.getUint16(2 * i, true)));
      case DataType.DOUBLE: return Float32Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
      default: return Float32Array.from(this.toNumbers());
    }
  }

  /** Values as JS numbers (integers and floats; int64 beyond 2^53 loses precision). */
  toNumbers(): number[] {
    const b = this.bytes();
    const n = this.numel;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const read = numberReader(this.dataType, dv);
    if (!read) return Array.from(this.toFloat32());
    return Array.from({ length: n }, (_, i) => read(i));
  }

  /** A float tensor of the same name and element type holding new values (encoded back to fp16/bf16/double). */
  static fromFloat32(name: string, dims: readonly number[], values: Float32Array, dataType: number = DataType.FLOAT): Tensor {
    const n = values.length;
    const size = elementSize(dataType);
    if (size === undefined || !(dataType === DataType.FLOAT || dataType === DataType.FLOAT16 || dataType === DataType.BFLOAT16 || dataType === DataType.DOUBLE))
      throw new Error(`fromFloat32: ${dataTypeName(dataType)} is not a float type`);
    const raw = new Uint8Array(n * size);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (dataType === DataType.FLOAT) dv.setFloat32(4 * i, v, true);
      else if (dataType === DataType.FLOAT16) dv.setUint16(2 * i, floatToHalf(v), true);
      else if (dataType === DataType.BFLOAT16) dv.setUint16(2 * i, floatToBfloat16(v), true);
      else dv.setFloat64(8 * i, v, true);
    }
    return Tensor.fromBytes(name, dims, dataType, raw);
  }

  static fromInt64(name: string, dims: readonly number[], values: readonly (number | bigint)[]): Tensor {
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
    return Tensor.fromBytes(name, dims, DataType.INT64, raw);
  }

  static fromBytes(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): Tensor {
    return new Tensor(create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType, rawData: raw as Uint8Array<ArrayBuffer> }));
  }

  /** The same data under another name (the proto is copied shallowly; bytes are shared). */
  renamed(name: string): Tensor {
    return new Tensor(create(TensorProtoSchema, { ...this.proto, name }), this.external);
  }
}

export function numelOf(dims: readonly (bigint | number)[]): number {
  let n = 1;
  for (const d of dims) n *= Number(d);
  return n;
}

function storedCount(p: TensorProto): { raw: boolean; count: number; perElement: number } {
  if (p.rawData.byteLength > 0) return { raw: true, count: p.rawData.byteLength, perElement: 1 };
  const complex = p.dataType === DataType.COMPLEX64 || p.dataType === DataType.COMPLEX128 ? 2 : 1;
  const count = p.floatData.length + p.int32Data.length + p.int64Data.length + p.doubleData.length + p.uint64Data.length;
  // int4/uint4 pack two per int32 entry; we only read them raw, so skip the count check for them.
  const packed = p.dataType === DataType.INT4 || p.dataType === DataType.UINT4 || p.dataType === DataType.FLOAT4E2M1;
  return { raw: false, count: packed ? 0 : count, perElement: complex };
}

function numberReader(t: number, dv: DataView): ((i: number) => number) | undefined {
  switch (t) {
    case DataType.INT64: return (i) => Number(dv.getBigInt64(8 * i, true));
    case DataType.UINT64: return (i) => Number(dv.getBigUint64(8 * i, true));
    case DataType.INT32: return (i) => dv.getInt32(4 * i, true);
    case DataType.UINT32: return (i) => dv.getUint32(4 * i, true);
    case DataType.INT16: return (i) => dv.getInt16(2 * i, true);
    case DataType.UINT16: return (i) => dv.getUint16(2 * i, true);
    case DataType.INT8: return (i) => dv.getInt8(i);
    case DataType.UINT8: case DataType.BOOL: return (i) => dv.getUint8(i);
    case DataType.FLOAT: return (i) => dv.getFloat32(4 * i, true);
    case DataType.DOUBLE: return (i) => dv.getFloat64(8 * i, true);
    case DataType.FLOAT16: return (i) => halfToFloat(dv.getUint16(2 * i, true));
    case DataType.BFLOAT16: return (i) => bfloat16ToFloat(dv.getUint16(2 * i, true));
    default: return undefined;
  }
}

/** Converts the typed repeated fields (float_data, int32_data, ...) to the raw little-endian layout. */
function typedFieldsToBytes(p: TensorProto): Uint8Array {
  const t = p.dataType;
  const size = elementSize(t);
  if (size === undefined || size < 1) fail(`tensor '${p.name}': cannot read ${dataTypeName(t)} stored in typed fields`);
  const n = numelOf(p.dims) * (t === DataType.COMPLEX64 || t === DataType.COMPLEX128 ? 2 : 1);
  const out = new Uint8Array(numelOf(p.dims) * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    switch (t) {
      case DataType.FLOAT: case DataType.COMPLEX64: dv.setFloat32(4 * i, p.floatData[i]!, true); break;
      case DataType.DOUBLE: case DataType.COMPLEX128: dv.setFloat64(8 * i, p.doubleData[i]!, true); break;
      case DataType.INT64: dv.setBigInt64(8 * i, p.int64Data[i]!, true); break;
      case DataType.UINT64: case DataType.UINT32: {
        const v = p.uint64Data[i]!;
        if (t === DataType.UINT64) dv.setBigUint64(8 * i, v, true);
        else dv.setUint32(4 * i, Number(v), true);
        break;
      }
      case DataType.INT32: dv.setInt32(4 * i, p.int32Data[i]!, true); break;
      case DataType.INT16: case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16:
        dv.setUint16(2 * i, p.int32Data[i]! & 0xffff, true); break;
      default: dv.setUint8(i, p.int32Data[i]! & 0xff);
    }
  }
  return out;
}
