import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelBuilder } from '../ir/builder.js';
import { DataType } from '../ir/dtype.js';
import { encodeModel } from '../ir/save.js';
import { ort, ortBinaryDir, quietOrt } from './ort.js';

/** Execution providers onnxruntime-node can be asked for on Linux / Windows builds. */
export type ProviderName = 'cpu' | 'cuda' | 'tensorrt';

export interface ProviderProbe {
  name: ProviderName;
  available: boolean;
  /** Why it does not load, one line. */
  reason?: string;
}

const probes = new Map<ProviderName, Promise<ProviderProbe>>();

/** Whether a session with this provider can be created here. Cached: providers do not appear mid-process. */
export function probeProvider(name: ProviderName): Promise<ProviderProbe> {
  let p = probes.get(name);
  if (!p) {
    p = runProbe(name);
    probes.set(name, p);
  }
  return p;
}

async function runProbe(name: ProviderName): Promise<ProviderProbe> {
  quietOrt();
  try {
    const session = await ort.InferenceSession.create(tinyModel(), { executionProviders: [name] });
    await session.release();
    return { name, available: true };
  } catch (e) {
    return { name, available: false, reason: explainFailure(name, firstLine(e)) };
  }
}

/** One Relu on a float[1]: the cheapest model every provider accepts. */
function tinyModel(): Uint8Array {
  const b = new ModelBuilder(17);
  const y = b.op('Relu', [b.input('x', [1])]);
  y.elemType = DataType.FLOAT;
  y.shape = [1];
  b.output(y);
  return encodeModel(b.build());
}

/**
 * onnxruntime only says "Failed to load shared library"; the useful detail (which file, which missing dependency)
 * goes to its native log, which we silence. So look for the provider library ourselves and, when it is there, let
 * the dynamic loader say what it lacks.
 */
function explainFailure(name: ProviderName, message: string): string {
  if (name === 'cpu' || !/load shared library/i.test(message)) return message;
  const dir = ortBinaryDir();
  const missing = [providerLibrary('shared'), providerLibrary(name)].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) return `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not in ${dir}: this onnxruntime-node install has no ${name} provider`;
  const loaderError = dlopenError(join(dir, providerLibrary(name)));
  const driver = name !== 'cuda' || process.platform !== 'linux' || existsSync('/proc/driver/nvidia/version') ? '' : '; no NVIDIA driver is loaded';
  return `${providerLibrary(name)} does not load${loaderError ? `: ${loaderError}` : ''}${driver}`;
}

function providerLibrary(name: string): string {
  return process.platform === 'win32' ? `onnxruntime_providers_${name}.dll` : `libonnxruntime_providers_${name}.so`;
}

/** The dynamic loader's complaint about a library (a missing libcudart / libcudnn, say), or undefined if it loads. */
function dlopenError(path: string): string | undefined {
  try {
    process.dlopen({ exports: {} }, path);
    return undefined;
  } catch (e) {
    const msg = firstLine(e);
    // dlopen worked; it is just not a Node addon.
    return /self-register|napi_register/i.test(msg) ? undefined : msg;
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
}
