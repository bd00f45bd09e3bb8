import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { ModelProtoSchema, StringStringEntryProtoSchema, TensorProto_DataLocation as DataLocation, type TensorProto } from 'onnx-buf';
import { UserError } from './errors.js';
import type { Model } from './model.js';
import { encodeChunks } from './protoStream.js';
import { modelToProto, type TensorWriter } from './serialize.js';
import type { Value } from './value.js';

export interface SaveOptions {
  /** true: weights to a side file; false: everything inline; 'auto' (default): side file when the model would pass 2 GiB. */
  externalData?: boolean | 'auto';
  /** Tensors smaller than this stay inline when writing external data (as onnx's size_threshold). */
  externalThreshold?: number;
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** Room left under the 2 GiB limit for the graph's non-tensor bytes when deciding on external data. */
const AUTO_MARGIN = 64 << 20;

/**
 * Writes the model to `path` atomically: everything goes to temporary files next to the targets, renamed into
 * place only once complete, so a failed run leaves no partial output and never touches the input.
 */
export function saveModel(model: Model, path: string, opts: SaveOptions = {}): void {
  const target = resolve(path);
  const external = opts.externalData === true || (opts.externalData !== false && tensorBytes(model) > PROTOBUF_LIMIT - AUTO_MARGIN);
  const temps: { tmp: string; final: string }[] = [];
  const tmpName = (final: string): string => {
    const tmp = temporaryPath(final);
    temps.push({ tmp, final });
    return tmp;
  };
  try {
    let writeTensor: TensorWriter = inlineTensor;
    let side: SideFile | undefined;
    if (external) {
      const location = `${basename(target)}.data`;
      side = new SideFile(tmpName(join(dirname(target), location)), location);
      writeTensor = (v) => side!.add(v, opts.externalThreshold ?? 1024);
    }
    const proto = modelToProto(model, writeTensor);
    side?.close();
    writeChunks(tmpName(target), encodeChunks(ModelProtoSchema, proto));
    for (const { tmp, final } of temps) renameSync(tmp, final);
  } catch (e) {
    for (const { tmp } of temps) try { unlinkSync(tmp); } catch { /* already gone */ }
    throw saveFailure(path, e);
  }
}

/** Writes a file (a report, a page) atomically, as saveModel writes a model: a temporary file beside it, then a rename. */
export function writeFileAtomically(path: string, data: string | Uint8Array): void {
  const tmp = temporaryPath(resolve(path));
  try {
    writeChunks(tmp, [typeof data === 'string' ? new TextEncoder().encode(data) : data]);
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* never created, or already gone */ }
    throw saveFailure(path, e);
  }
}

function temporaryPath(final: string): string {
  return join(dirname(final), `.${basename(final)}.tmp-${process.pid}-${Date.now()}`);
}

/** A missing folder, a directory in the way, a full disk: the user's to fix, so one line and exit 2. */
function saveFailure(path: string, e: unknown): unknown {
  const sys = e as NodeJS.ErrnoException;
  return sys.syscall && sys.code ? new UserError(`saving '${path}' failed: ${sys.code} (${sys.syscall}${sys.path ? ` '${sys.path}'` : ''})`) : e;
}

/** The initializer as written inline: external tensors are read in and stored as raw_data. */
function inlineTensor(v: Value): TensorProto {
  const t = v.initializer!;
  if (!t.external) return t.proto.name === v.name ? t.proto : { ...t.proto, name: v.name };
  const { externalData: _e, dataLocation: _d, ...rest } = t.proto;
  // Omitting data_location leaves it unset (proto2 presence), as a tensor that never was external.
  return { ...rest, name: v.name, rawData: t.bytes() as Uint8Array<ArrayBuffer>, externalData: [] } as unknown as TensorProto;
}

function tensorBytes(model: Model): number {
  let n = 0;
  for (const v of model.graph.initializers) n += v.initializer!.byteLength;
  return n;
}

/** The weights file beside an externally-stored model, written tensor by tensor. */
class SideFile {
  private readonly fd: number;
  private offset = 0;
  constructor(readonly tmpPath: string, readonly location: string) {
    this.fd = openSync(tmpPath, 'w');
  }

  add(v: Value, threshold: number): TensorProto {
    const t = v.initializer!;
    if (t.byteLength < threshold) return inlineTensor(v);
    const bytes = t.bytes();
    // Align each tensor to 4 KiB so readers can memory-map it.
    const start = Math.ceil(this.offset / 4096) * 4096;
    writeAll(this.fd, bytes, start);
    this.offset = start + bytes.byteLength;
    const { rawData: _r, floatData: _f, int32Data: _i, int64Data: _l, doubleData: _d, uint64Data: _u, ...rest } = t.proto;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    return {
      ...rest, name: v.name, floatData: [], int32Data: [], int64Data: [], doubleData: [], uint64Data: [],
      dataLocation: DataLocation.EXTERNAL,
      externalData: [entry('location', this.location), entry('offset', String(start)), entry('length', String(bytes.byteLength))],
    } as unknown as TensorProto; // raw_data omitted: unset under proto2 presence
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number | null): void {
  for (let done = 0; done < bytes.byteLength; ) {
    const n = writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30), position === null ? null : position + done);
    done += n;
  }
}

/** Streams chunks to a file, coalescing small ones so a graph of thousands of nodes is not thousands of writes. */
function writeChunks(path: string, chunks: Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    const buf = new Uint8Array(4 << 20);
    let used = 0;
    const flush = (): void => {
      writeAll(fd, buf.subarray(0, used), null);
      used = 0;
    };
    for (const c of chunks) {
      if (c.byteLength > buf.byteLength / 2) {
        flush();
        writeAll(fd, c, null);
      } else {
        if (used + c.byteLength > buf.byteLength) flush();
        buf.set(c, used);
        used += c.byteLength;
      }
    }
    flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Encodes the model to one buffer (for small models and for handing to onnxruntime in memory). */
export function encodeModel(model: Model): Uint8Array {
  const chunks = encodeChunks(ModelProtoSchema, modelToProto(model));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
