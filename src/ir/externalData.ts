import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { TensorProto } from 'onnx-buf';
import { fail } from './errors.js';

/**
 * The bytes of one externally stored tensor: a (file, offset, length) triple read on demand with positional reads,
 * so neither a side file over 2 GiB nor many tensors at once ever have to sit in memory.
 */
export class ExternalDataSource {
  constructor(
    readonly path: string,
    readonly location: string,
    readonly offset: number,
    readonly length: number,
  ) {}

  read(): Uint8Array {
    const out = new Uint8Array(this.length);
    const fd = openSync(this.path, 'r');
    try {
      let done = 0;
      while (done < this.length) {
        const n = readSync(fd, out, done, Math.min(this.length - done, 1 << 30), this.offset + done);
        if (n === 0) fail(`external data file '${this.location}' ends before offset ${this.offset + this.length}`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }
}

/** Resolves a tensor's external_data entries against the model's folder, refusing paths that leave it. */
export function externalSourceOf(t: TensorProto, baseDir: string): ExternalDataSource {
  const entries = new Map(t.externalData.map((e) => [e.key, e.value]));
  const location = entries.get('location');
  if (!location) fail(`tensor '${t.name}' is marked external but has no location`);
  if (isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location))
    fail(`tensor '${t.name}': external data location '${location}' is an absolute path; only paths inside the model's folder are allowed`);
  const path = resolve(baseDir, location);
  const rel = relative(resolve(baseDir), path);
  if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel))
    fail(`tensor '${t.name}': external data location '${location}' escapes the model's folder`);
  const offset = Number(entries.get('offset') ?? '0');
  let fileSize: number;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    fail(`tensor '${t.name}': external data file '${location}' not found next to the model`);
  }
  try {
    fileSize = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  const length = entries.has('length') ? Number(entries.get('length')) : fileSize - offset;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > fileSize)
    fail(`tensor '${t.name}': external data range offset=${offset} length=${length} lies outside '${location}' (${fileSize} bytes)`);
  return new ExternalDataSource(path, location, offset, length);
}
