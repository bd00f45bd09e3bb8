import { renameSync, writeFileSync } from 'node:fs';

/** A little-endian float32 or int64 array as the bytes of a NumPy .npy v1.0 file (C order). */
export function encodeNpy(data: Float32Array | BigInt64Array, shape: readonly number[]): Uint8Array {
  const descr = data instanceof Float32Array ? '<f4' : '<i8';
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + header length (2) + header + '\n' must be a multiple of 64.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  head.set(Buffer.from(header, 'latin1'), 10);
  return Buffer.concat([head, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Writes a little-endian float32 or int64 array as NumPy .npy v1.0 (C order), atomically. */
export function writeNpy(path: string, data: Float32Array | BigInt64Array, shape: readonly number[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeNpy(data, shape));
  renameSync(tmp, path);
}
