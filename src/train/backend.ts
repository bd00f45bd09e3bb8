import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { fail } from '../ir/errors.js';
import { registerTfjsGradients } from './tfGradients.js';

/** Which tfjs backend trains: `auto` picks the fastest that loads (tfjs-node's TensorFlow, then wasm, then cpu). */
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' (tfjs-node / tfjs-node-gpu), 'wasm' or 'cpu'. */
  name: string;
  /** One line for `doctor` and progress output: which package and, for the fallbacks, why. */
  detail: string;
}

let active: BackendInfo | undefined;
let initializing: Promise<BackendInfo> | undefined;
const notes: string[] = [];

/** The backend training runs on, once `initTrainingBackend` has run. */
export function activeTrainingBackend(): BackendInfo | undefined {
  return active;
}

/**
 * Loads tfjs gradients and selects a backend (once per process; a later call with another preference switches).
 * tfjs-node and tfjs-node-gpu are optional: they cannot be installed here (their installer downloads libtensorflow),
 * so they are imported only when a user has them.
 */
export async function initTrainingBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (active && (preference === 'auto' || preference === active.name)) return active;
  if (initializing) await initializing.catch(() => undefined);
  initializing = select(preference);
  active = await initializing;
  return active;
}

async function select(preference: BackendPreference): Promise<BackendInfo> {
  // PROD silences tfjs's console advice ("install tfjs-node") and its debug checks; our errors are thrown, not logged.
  tf.env().set('PROD', true);
  await registerTfjsGradients();
  notes.length = 0;
  const order: BackendPreference[] = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  for (const kind of order) {
    const info = await tryBackend(kind);
    if (info) return info;
  }
  fail(`the ${preference} training backend is not available: ${notes.join('; ')}`);
}

async function tryBackend(kind: BackendPreference): Promise<BackendInfo | undefined> {
  if (kind === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(pkg); // registers the 'tensorflow' backend as a side effect
        if (await tf.setBackend('tensorflow')) return { name: 'tensorflow', detail: `${pkg} (native TensorFlow)` };
        notes.push(`${pkg} loaded but its backend did not start`);
      } catch (e) {
        notes.push(`${pkg} not installed${isMissing(e) ? '' : ` (${firstLine(e)})`}`);
      }
    }
    return undefined;
  }
  if (kind === 'wasm') {
    try {
      setWasmPaths(`${wasmDistDir()}/`);
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
        const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : 'one thread';
        return { name: 'wasm', detail: `@tensorflow/tfjs-backend-wasm (${simd}, ${threads})${suffix()}` };
      }
      notes.push('wasm backend did not start');
    } catch (e) {
      notes.push(`wasm backend failed (${firstLine(e)})`);
    }
    return undefined;
  }
  if (kind === 'cpu' && (await tf.setBackend('cpu'))) return { name: 'cpu', detail: `@tensorflow/tfjs-backend-cpu (pure JavaScript, slow)${suffix()}` };
  notes.push(`${kind} backend did not start`);
  return undefined;
}

/** The folder holding the backend's .wasm binaries; Node must be told where they are. */
function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
}

function suffix(): string {
  return notes.length ? `; ${notes.join('; ')}` : '';
}

function isMissing(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
