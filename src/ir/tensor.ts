import { create, isFieldSet } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorProto_DataLocation as DataLocation, type TensorProto } from 'onnx-buf';
import { DataType, bfloat16ToFloat, byteLengthOf, dataTypeName, elementSize, floatToBfloat16, floatToHalf, halfToFloat, isKnownDataType } from './dtype.js';
import { fail } from './errors.js';
import type { ExternalDataSource } from './externalData.js';

/**
 * An ONNX tensor. It wraps the TensorProto it was read from, so a tensor no pass touched is written back exactly;
 * raw_data stays a view into the model file, and external data is read only when asked for.
 */
export class Tensor {
  readonly proto: TensorProto;
  /** Where the bytes live when the tensor uses external data. */
  readonly external: ExternalDataSource | undefined;
  /** Computes the bytes when asked (a slice of externally stored weights), so they are never all in memory at once. */
  private readonly compute: (() => Uint8Array) | undefined;

  constructor(proto: TensorProto, external?: ExternalDataSource, compute?: () => Uint8Array) {
    this.proto = proto;
    this.external = external;
    this.compute = compute;
  }

  /**
   * A tensor whose bytes `compute` makes on each read and nobody keeps: a slice of a weight that lives in external
   * data is read and cut when it is written out, so a model is rewritten one tensor at a time.
   */
  static computed(name: string, dims: readonly number[], dataType: number, compute: () => Uint8Array): Tensor {
    return new Tensor(create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType }), undefined, compute);
  }

  /** Whether reading the bytes means reading a file or computing them (they are not held in memory). */
  get deferred(): boolean {
    return this.external !== undefined || this.compute !== undefined;
  }

  /** The TensorProto with its values in raw_data (external and computed bytes read in), named `name`. */
  inlineProto(name = this.name): TensorProto {
    if (!this.deferred) return this.proto.name === name ? this.proto : { ...this.proto, name };
    const { externalData: _e, dataLocation: _d, ...rest } = this.proto;
    // Omitting data_location leaves it unset (proto2 presence), as a tensor that never was external.
    return { ...rest, name, rawData: this.bytes() as Uint8Array<ArrayBuffer>, externalData: [] } as unknown as TensorProto;
  }

  get name(): string { return this.proto.name; }
  get dataType(): number { return this.proto.dataType; }
  get dims(): number[] { return this.proto.dims.map(Number); }
  get numel(): number { return numelOf(this.proto.dims); }
  /** Bytes the elements take, whether stored raw, in typed fields or externally. */
  get byteLength(): number {
    return byteLengthOf(this.dataType, this.numel) ?? this.proto.stringData.reduce((n, s) => n + s.byteLength, 0);
  }

  /**
   * Checks the tensor agrees with itself: a type ONNX defines, dims that are not negative, and exactly the data the
   * dims need, in the one place the type keeps it (raw_data, its typed field, or an external range). Dims are only
   * compared with the bytes present, so a tensor claiming 2^40 elements is refused without allocating anything.
   * Throws a UserError naming the tensor (`where` says where it sits, e.g. in which node's attribute).
   */
  validate(where = `tensor '${this.proto.name}'`): void {
    if (this.compute) return; // made by onnx-cprune from a validated tensor
    const p = this.proto;
    if (!isKnownDataType(p.dataType)) fail(`${where} has data_type ${p.dataType}, which ONNX does not define`);
    for (const d of p.dims) if (d < 0n) fail(`${where} has a negative dimension ${d} (dims [${p.dims.join(', ')}])`);
    const n = numelOf(p.dims);
    if (!Number.isFinite(n)) fail(`${where} declares dims [${p.dims.join(', ')}], over 2^53 elements: no tensor that size can exist`);
    const type = dataTypeName(p.dataType);
    const shape = `dims [${p.dims.join(', ')}] of ${type}`;
    if (p.dataLocation !== DataLocation.DEFAULT && p.dataLocation !== DataLocation.EXTERNAL)
      fail(`${where} has data_location ${p.dataLocation}, which ONNX does not define`);
    const field = typedFieldOf(p.dataType);
    const filled = TYPED_FIELDS.filter((f) => p[f].length > 0);
    if (this.external) {
      if (p.dataType === DataType.STRING) fail(`${where}: string tensors cannot keep their data externally`);
      if (p.rawData.byteLength > 0 || filled.length > 0) fail(`${where} is marked external but also holds data inline`);
      const need = byteLengthOf(p.dataType, n)!;
      if (this.external.length !== need)
        fail(`${where}: external data holds ${this.external.length} bytes but ${shape} need ${need}`);
      return;
    }
    // external_data entries count only with data_location EXTERNAL (as onnxruntime reads them): say so when they mislead.
    const ignored = p.externalData.length > 0 ? ' (its external_data entries are ignored: data_location is not EXTERNAL)' : '';
    const misplaced = filled.filter((f) => f !== field);
    if (misplaced.length) fail(`${where}: ${type} values belong in ${fieldName(field)}, but ${fieldName(misplaced[0]!)} holds data`);
    // raw_data counts when present, even empty (as onnxruntime reads it): it must then hold everything.
    if (p.rawData.byteLength > 0 || isFieldSet(p, TensorProtoSchema.field.rawData)) {
      if (p.dataType === DataType.STRING) fail(`${where}: string tensors cannot use raw_data`);
      if (filled.length) fail(`${where} holds data both in raw_data and in ${fieldName(filled[0]!)}`);
      const need = byteLengthOf(p.dataType, n)!;
      if (p.rawData.byteLength !== need) fail(`${where}: raw_data holds ${p.rawData.byteLength} bytes but ${shape} need ${need}${ignored}`);
      return;
    }
    const count = p[field].length;
    const need = typedCount(p.dataType, n);
    if (count !== need) {
      if (count === 0) fail(`${where} holds no data but ${shape} need ${need === n ? `${n} values` : `${need} entries`}${ignored}`);
      fail(`${where}: ${fieldName(field)} holds ${count} values but ${shape} need ${need}`);
    }
  }

  /** Little-endian element bytes, as raw_data would hold them. Zero-copy for raw_data tensors. */
  bytes(): Uint8Array {
    if (this.compute) return this.compute();
    if (this.external) return this.external.read();
    const p = this.proto;
    if (p.rawData.byteLength > 0 || TYPED_FIELDS.every((f) => p[f].length === 0)) return p.rawData;
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
      case DataType.FLOAT16: case DataType.BFLOAT16: return widenHalves(b, n, halfTable(this.dataType)!);
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
    if (!read) fail(`tensor '${this.name}': ${dataTypeName(this.dataType)} values cannot be read as numbers (onnx-cprune computes on float, integer and bool tensors)`);
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
    return new Tensor(create(TensorProtoSchema, { ...this.proto, name }), this.external, this.compute);
  }
}

/**
 * 16-bit floats to float32 through a 65 536-entry table (256 KiB, built once): one load per element, where decoding
 * each half's bits costs a hundred times more (a 7B model's weights are 3.5·10⁹ of them).
 */
function widenHalves(b: Uint8Array, n: number, table: Float32Array): Float32Array {
  const src = halfWords(b, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
  return out;
}

/** The n 16-bit words of little-endian bytes `b` (a view when aligned on a little-endian host, else a copy). */
export function halfWords(b: Uint8Array, n: number): Uint16Array {
  if (LITTLE_ENDIAN) return b.byteOffset % 2 === 0 ? new Uint16Array(b.buffer, b.byteOffset, n) : new Uint16Array(Uint8Array.prototype.slice.call(b, 0, 2 * n).buffer);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Uint16Array.from({ length: n }, (_, i) => dv.getUint16(2 * i, true));
}

/** float16 / bfloat16 bit patterns → float32 values (a lookup table), for the two 16-bit float types; else undefined. */
export function halfTable(dataType: number): Float32Array | undefined {
  if (dataType === DataType.FLOAT16) return (halves ??= Float32Array.from({ length: 65536 }, (_, h) => halfToFloat(h)));
  if (dataType === DataType.BFLOAT16) return (bhalves ??= Float32Array.from({ length: 65536 }, (_, h) => bfloat16ToFloat(h)));
  return undefined;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
let halves: Float32Array | undefined;
let bhalves: Float32Array | undefined;

/** Element count of dims; Infinity when it passes 2^53, where doubles stop counting exactly. */
export function numelOf(dims: readonly (bigint | number)[]): number {
  let n = 1n;
  for (const d of dims) {
    n *= BigInt(d);
    if (n === 0n) return 0;
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < 0n) return n < 0n ? Number.NaN : Infinity;
  }
  return Number(n);
}

/** The TensorProto fields that hold values as typed lists, and which one each element type uses. */
const TYPED_FIELDS = ['floatData', 'int32Data', 'stringData', 'int64Data', 'doubleData', 'uint64Data'] as const;
type TypedField = (typeof TYPED_FIELDS)[number];

function typedFieldOf(t: number): TypedField {
  switch (t) {
    case DataType.FLOAT: case DataType.COMPLEX64: return 'floatData';
    case DataType.STRING: return 'stringData';
    case DataType.INT64: return 'int64Data';
    case DataType.DOUBLE: case DataType.COMPLEX128: return 'doubleData';
    case DataType.UINT32: case DataType.UINT64: return 'uint64Data';
    default: return 'int32Data'; // the small integers, bool, float16/bfloat16, float8, and the packed 4- and 2-bit types
  }
}

function fieldName(f: TypedField): string {
  return f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Entries the typed field holds for n elements: two per complex number, packed bytes for sub-byte types. */
function typedCount(t: number, n: number): number {
  if (t === DataType.COMPLEX64 || t === DataType.COMPLEX128) return 2 * n;
  const size = elementSize(t);
  return size !== undefined && size < 1 ? Math.ceil(n * size) : n;
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

/** Converts the typed repeated fields (float_data, int32_data, ...) to the raw little-endian layout (validated counts). */
function typedFieldsToBytes(p: TensorProto): Uint8Array {
  const t = p.dataType;
  const n = numelOf(p.dims);
  const bytes = byteLengthOf(t, n);
  if (bytes === undefined) fail(`tensor '${p.name}': ${dataTypeName(t)} values have no byte layout`);
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  const count = typedCount(t, n);
  for (let i = 0; i < count; i++) {
    switch (t) {
      case DataType.FLOAT: case DataType.COMPLEX64: dv.setFloat32(4 * i, p.floatData[i]!, true); break;
      case DataType.DOUBLE: case DataType.COMPLEX128: dv.setFloat64(8 * i, p.doubleData[i]!, true); break;
      case DataType.INT64: dv.setBigInt64(8 * i, p.int64Data[i]!, true); break;
      case DataType.UINT64: dv.setBigUint64(8 * i, p.uint64Data[i]!, true); break;
      case DataType.UINT32: dv.setUint32(4 * i, Number(p.uint64Data[i]! & 0xffffffffn), true); break;
      case DataType.INT32: dv.setInt32(4 * i, p.int32Data[i]!, true); break;
      case DataType.INT16: case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16:
        dv.setUint16(2 * i, p.int32Data[i]! & 0xffff, true); break;
      default: dv.setUint8(i, p.int32Data[i]! & 0xff); // one byte per entry: 8-bit types and packed sub-byte pairs
    }
  }
  return out;
}
