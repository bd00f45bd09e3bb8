import { closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { ModelProtoSchema, StringStringEntryProtoSchema, TensorProto_DataLocation as DataLocation, type ModelProto, type TensorProto } from 'onnx-buf';
import { fail, UserError } from './errors.js';
import type { Model } from './model.js';
import { encodeChunks } from './protoStream.js';
import { modelToProto, type TensorWriter } from './serialize.js';
import type { Value } from './value.js';

export interface SaveOptions {
  /**
   * true: weights to a side file; false: everything inline; 'auto' (default): a side file when the model would pass
   * 2 GiB, or when it was read with external data (a weight of 1 MiB or more stored there, or sliced from one there).
   */
  externalData?: boolean | 'auto';
  /** Tensors smaller than this stay inline when writing external data (as onnx's size_threshold). */
  externalThreshold?: number;
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** Room left under the 2 GiB limit for the graph's non-tensor bytes when deciding on external data. */
const AUTO_MARGIN = 64 << 20;
/** 'auto' keeps external data for a model read with it when one of its deferred tensors is at least this big. */
const AUTO_DEFERRED_BYTES = 1 << 20;

/**
 * Writes the model to `path` atomically: everything goes to temporary files next to the targets, renamed into
 * place only once complete, so a failed run leaves no partial output and never touches the input. Refuses a path
 * (or side file) that is one of the files the model was read from, however it is spelled or linked.
 */
export function saveModel(model: Model, path: string, opts: SaveOptions = {}): void {
  writeStaged((files) => stageModel(model, path, opts, files));
}

/** Writes one file (a report, a page) atomically, as saveModel writes a model: a temporary beside it, then a rename. */
export function writeFileAtomically(path: string, data: Uint8Array | string): void {
  writeStaged((files) => files.write(path, data));
}

/** Runs `stage` on fresh StagedFiles and commits them: every file it staged takes its name, or none does. */
export function writeStaged(stage: (files: StagedFiles) => void): void {
  const files = new StagedFiles();
  try {
    stage(files);
    files.commit();
  } finally {
    files.abort();
  }
}

/** The side file saveModel writes weights to for a model saved at `path`. */
export function sideFileOf(path: string): string {
  return `${resolve(path)}.data`;
}

/** Writes the model (and its side file, if any) as temporaries of `files`; they take their names on commit. */
export function stageModel(model: Model, path: string, opts: SaveOptions, files: StagedFiles): void {
  const target = resolve(path);
  const external = opts.externalData === true
    || (opts.externalData !== false && (tensorBytes(model) > PROTOBUF_LIMIT - AUTO_MARGIN || weightsDeferred(model)));
  for (const out of external ? [target, sideFileOf(target)] : [target]) {
    const source = model.sourceFiles.find((f) => sameFile(f, out));
    if (source) fail(`refusing to write '${out}': it is the input model or one of its external data files ('${source}')`);
  }
  files.run(path, () => {
    let writeTensor: TensorWriter = inlineTensor;
    let side: SideFile | undefined;
    if (external) {
      const location = basename(sideFileOf(target));
      side = new SideFile(files.temp(sideFileOf(target)), location);
      writeTensor = (v) => side!.add(v, opts.externalThreshold ?? 1024);
    }
    let proto: ModelProto;
    try {
      proto = modelToProto(model, writeTensor);
    } finally {
      side?.close();
    }
    writeChunks(files.temp(target), encodeChunks(ModelProtoSchema, proto));
  });
}

/**
 * Output files written as temporaries beside their targets and renamed into place together by commit(), so a run
 * that fails part way (a report that cannot be written after the model was) leaves none of them. abort() removes
 * whatever was not committed; after commit() it does nothing.
 */
export class StagedFiles {
  private readonly staged: { tmp: string; final: string }[] = [];
  private committed = false;

  /** A fresh temporary path beside `final`, renamed to it on commit. */
  temp(final: string): string {
    const tmp = join(dirname(final), `.${basename(final)}.tmp-${process.pid}-${Date.now()}-${this.staged.length}`);
    this.staged.push({ tmp, final });
    return tmp;
  }

  /** Stages any bytes or text (a report) for `path`. */
  write(path: string, data: Uint8Array | string): void {
    this.run(path, () => writeChunks(this.temp(resolve(path)), [typeof data === 'string' ? new TextEncoder().encode(data) : data]));
  }

  /** Runs a write; a system error (a missing folder, a directory in the way, a full disk) becomes a one-line UserError. */
  run(path: string, write: () => void): void {
    try {
      write();
    } catch (e) {
      throw asUserError(e, path);
    }
  }

  /** Renames every temporary into place; if one fails, the files already renamed are removed again. */
  commit(): void {
    const done: string[] = [];
    try {
      for (const { tmp, final } of this.staged) {
        renameSync(tmp, final);
        done.push(final);
      }
      this.committed = true;
    } catch (e) {
      for (const f of done) removeQuietly(f);
      throw asUserError(e, this.staged[done.length]?.final ?? '');
    }
  }

  abort(): void {
    if (this.committed) return;
    for (const { tmp } of this.staged) removeQuietly(tmp);
  }
}

function removeQuietly(path: string): void {
  try { unlinkSync(path); } catch { /* never written, or already gone */ }
}

function asUserError(e: unknown, path: string): unknown {
  const sys = e as NodeJS.ErrnoException;
  if (sys.syscall && sys.code) return new UserError(`saving '${path}' failed: ${sys.code} (${sys.syscall}${sys.path ? ` '${sys.path}'` : ''})`);
  return e;
}

/**
 * Whether two paths name the same file: the same real path (links and `..` resolved; for a file not yet there,
 * its folder's real path), or the same inode (hard links).
 */
export function sameFile(a: string, b: string): boolean {
  if (realTarget(a) === realTarget(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false; // one of them does not exist yet
  }
}

function realTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** The initializer as written inline: external and computed tensors are read in and stored as raw_data. */
function inlineTensor(v: Value): TensorProto {
  return v.initializer!.inlineProto(v.name);
}

function tensorBytes(model: Model): number {
  let n = 0;
  for (const v of model.graph.initializers) n += v.initializer!.byteLength;
  return n;
}

/**
 * Whether the weights are not in memory: read from external data, or slices of such (a pruned LLM). Such a model
 * is written with external data too, one tensor at a time: inline, all its weights would be in memory at once.
 */
function weightsDeferred(model: Model): boolean {
  return model.graph.initializers.some((v) => v.initializer!.deferred && v.initializer!.byteLength >= AUTO_DEFERRED_BYTES);
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
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
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
