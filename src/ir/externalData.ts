import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { constants as bufferConstants } from 'node:buffer';
import type { TensorProto } from 'onnx-buf';
import { fail } from './errors.js';

/**
 * The bytes of one externally stored tensor: a (file, offset, length) triple read on demand with positional reads,
 * so neither a side file over 2 GiB nor many tensors at once ever have to sit in memory.
 */
export class ExternalDataSource {
  constructor(
    /** The file's real path (links resolved), checked to lie inside the model's folder. */
    readonly path: string,
    readonly location: string,
    readonly offset: number,
    readonly length: number,
  ) {}

  read(): Uint8Array {
    if (this.length > bufferConstants.MAX_LENGTH)
      fail(`external data '${this.location}': a tensor of ${this.length} bytes is larger than one buffer can hold here`);
    const out = new Uint8Array(this.length);
    const fd = openRegularFile(this.path, this.location);
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

/**
 * Opens a file for reading only if it is a regular file. O_NONBLOCK keeps a FIFO that replaced the file since it was
 * checked from blocking the open; the descriptor is then checked again, so what is read is what was checked.
 */
function openRegularFile(path: string, location: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    fail(`external data file '${location}' cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    fail(`external data '${location}' ${notRegular(st)}`);
  }
  return fd;
}

function notRegular(st: Stats): string {
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isFIFO()) return 'is a FIFO, not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

/** Keys of external_data entries that ONNX defines; others are refused rather than ignored. */
const KNOWN_KEYS = new Set(['location', 'offset', 'length', 'checksum', 'basepath']);

/** An offset or length: a plain non-negative decimal integer ('1e3', '', ' 5', '0x10' and '-0' are refused). */
function parseByteCount(value: string | undefined, key: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) fail(`${where}: external data ${key} '${value}' is not a non-negative decimal integer`);
  return n;
}

/**
 * Resolves a tensor's external_data entries against the model's folder. Only a regular file whose real path (links
 * resolved) lies inside the folder is accepted, and the (offset, length) range must lie inside it.
 */
export function externalSourceOf(t: TensorProto, baseDir: string, where = `tensor '${t.name}'`): ExternalDataSource {
  const entries = new Map<string, string>();
  for (const e of t.externalData) {
    if (!KNOWN_KEYS.has(e.key)) fail(`${where}: unknown external_data key '${e.key}'`);
    if (entries.has(e.key)) fail(`${where}: external_data key '${e.key}' is given twice`);
    entries.set(e.key, e.value);
  }
  const location = entries.get('location');
  if (!location) fail(`${where} is marked external but has no location`);
  if (location.includes('\0')) fail(`${where}: external data location contains a NUL character`);
  if (isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location))
    fail(`${where}: external data location '${location}' is an absolute path; only paths inside the model's folder are allowed`);
  const escapes = (root: string, path: string): boolean => {
    const rel = relative(root, path);
    return rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel);
  };
  if (escapes(resolve(baseDir), resolve(baseDir, location))) fail(`${where}: external data location '${location}' escapes the model's folder`);
  let path: string;
  let st: Stats;
  try {
    path = realpathSync(resolve(baseDir, location));
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(code === 'ENOENT' || code === 'ENOTDIR'
      ? `${where}: external data file '${location}' not found next to the model`
      : `${where}: external data file '${location}' cannot be read (${code ?? 'error'})`);
  }
  // The real path, not the spelled one: a link inside the folder may point anywhere.
  if (escapes(realpathSync(baseDir), path)) fail(`${where}: external data location '${location}' is a link leading out of the model's folder`);
  if (!st.isFile()) fail(`${where}: external data '${location}' ${notRegular(st)}`);
  const fileSize = st.size;
  const offset = parseByteCount(entries.get('offset'), 'offset', where) ?? 0;
  const length = parseByteCount(entries.get('length'), 'length', where) ?? fileSize - offset;
  if (length < 0 || offset + length > fileSize)
    fail(`${where}: external data range offset=${offset} length=${length} lies outside '${location}' (${fileSize} bytes)`);
  return new ExternalDataSource(path, location, offset, length);
}
