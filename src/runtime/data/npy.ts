import { readFileSync } from 'node:fs';
import { fail } from '../../ir/errors.js';
import { halfToFloat } from '../../ir/dtype.js';

/** A .npy array: shape and elements in C order, widened to a JS typed array. */
export interface NpyArray {
  shape: number[];
  /** The numpy type string without byte order, e.g. 'f4', 'u1'. */
  dtype: string;
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpy(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    fail(`cannot read '${path}': ${(e as Error).message.split('\n')[0]}`);
  }
  return parseNpy(bytes, path);
}

/** Parses the NPY format (versions 1-3): magic, version, header length, a Python dict literal header, raw data. */
export function parseNpy(bytes: Uint8Array, source = 'input'): NpyArray {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail(`'${source}' is not a .npy file (bad magic string)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`'${source}': unsupported .npy format version ${major}`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (start > bytes.byteLength) fail(`'${source}': truncated .npy header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) fail(`'${source}': structured .npy arrays (record dtypes) are not supported; save a plain numeric array`);
  if (fortran === undefined || shapeText === undefined) fail(`'${source}': malformed .npy header`);
  if (fortran === 'True') fail(`'${source}' is stored in Fortran order; save it with np.ascontiguousarray(a) first`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`'${source}': malformed .npy shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype: descr.slice(1), data: decode(bytes, start, n, descr, source) };
}

function decode(bytes: Uint8Array, start: number, n: number, descr: string, source: string): NpyArray['data'] {
  const order = descr[0];
  const type = descr.slice(1);
  if (type === 'O') fail(`'${source}' holds Python objects (dtype object); save a numeric array`);
  const size = Number(type.slice(1));
  if (order === '>' && size > 1) fail(`'${source}' is big-endian (${descr}); save it with a.astype(a.dtype.newbyteorder('<'))`);
  const need = n * size;
  if (!Number.isFinite(need) || bytes.byteLength - start < need) fail(`'${source}': the .npy data is shorter than its shape needs`);
  // Copy (a Node Buffer's slice would share its pool): the data offset need not be aligned for a typed-array view.
  const buf = new Uint8Array(bytes.subarray(start, start + need)).buffer;
  switch (type) {
    case 'f4': return new Float32Array(buf);
    case 'f8': return new Float64Array(buf);
    case 'f2': return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case 'i4': return new Int32Array(buf);
    case 'i8': return Int32Array.from(new BigInt64Array(buf), (v) => checkedInt(v, source));
    case 'u1': case 'b1': return new Uint8Array(buf);
    case 'i1': return new Int8Array(buf);
    case 'i2': return new Int16Array(buf);
    case 'u2': return new Uint16Array(buf);
    default: fail(`'${source}': unsupported .npy dtype '${descr}' (use float32/float64/float16, int8/16/32/64, uint8/16 or bool)`);
  }
}

function checkedInt(v: bigint, source: string): number {
  if (v > 2147483647n || v < -2147483648n) fail(`'${source}': int64 value ${v} does not fit in 32 bits`);
  return Number(v);
}
