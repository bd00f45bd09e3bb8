import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

export { ort };

let quiet = false;

/**
 * onnxruntime prints a native error line for every execution provider that fails to load, even when we catch the
 * failure and fall back; it reads the log level once, at its first session. We report failures ourselves, so only
 * fatal native messages are let through.
 */
export function quietOrt(): void {
  if (quiet) return;
  ort.env.logLevel = 'fatal';
  quiet = true;
}

/** The onnxruntime-node package version (the native library is the same release). */
export function ortVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

/** The folder holding libonnxruntime.so.1 and where provider libraries (CUDA, TensorRT) must be placed. */
export function ortBinaryDir(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
}
