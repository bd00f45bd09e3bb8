import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fail } from '../../ir/errors.js';

/** An IDX array (the MNIST file format): big-endian dims, then big-endian elements. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { size: number; name: string }> = {
  0x08: { size: 1, name: 'ubyte' }, 0x09: { size: 1, name: 'byte' }, 0x0b: { size: 2, name: 'short' },
  0x0c: { size: 4, name: 'int' }, 0x0d: { size: 4, name: 'float' }, 0x0e: { size: 8, name: 'double' },
};

/** Reads an IDX file, gunzipping it first when it is gzip (by content, not name). */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  } catch (e) {
    fail(`cannot read IDX file '${path}': ${(e as Error).message.split('\n')[0]}`);
  }
  return parseIdx(bytes, path);
}

export function parseIdx(bytes: Uint8Array, source = 'input'): IdxArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4 || bytes[0] !== 0 || bytes[1] !== 0) fail(`'${source}' is not an IDX file (bad magic number)`);
  const type = TYPES[bytes[2]!];
  const rank = bytes[3]!;
  if (!type) fail(`'${source}': unknown IDX element type 0x${bytes[2]!.toString(16)}`);
  if (rank === 0 || bytes.byteLength < 4 + 4 * rank) fail(`'${source}': truncated IDX header`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.byteLength - start !== n * type.size) fail(`'${source}': IDX dims [${dims.join(', ')}] need ${n * type.size} bytes of ${type.name}, the file has ${bytes.byteLength - start}`);
  return { dims, data: decode(view, start, n, bytes[2]!) };
}

function decode(view: DataView, start: number, n: number, type: number): IdxArray['data'] {
  switch (type) {
    case 0x08: return new Uint8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + n));
    case 0x09: return new Int8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + n));
    case 0x0b: return Int16Array.from({ length: n }, (_, i) => view.getInt16(start + 2 * i));
    case 0x0c: return Int32Array.from({ length: n }, (_, i) => view.getInt32(start + 4 * i));
    case 0x0d: return Float32Array.from({ length: n }, (_, i) => view.getFloat32(start + 4 * i));
    default: return Float64Array.from({ length: n }, (_, i) => view.getFloat64(start + 8 * i));
  }
}
