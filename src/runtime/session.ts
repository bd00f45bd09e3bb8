import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import type { Model } from '../ir/model.js';
import { encodeModel } from '../ir/save.js';
import { ort, quietOrt } from './ort.js';
import { probeProvider } from './providers.js';

/** What the user asks for: `auto` uses CUDA when it loads and the CPU otherwise. */
export type EpChoice = 'auto' | 'cuda' | 'cpu';
/** What a session actually runs on. */
export type ExecutionProvider = 'cuda' | 'cpu';

export const EP_CHOICES: readonly EpChoice[] = ['auto', 'cuda', 'cpu'];

export interface OpenSessionOptions {
  ep?: EpChoice;
  /** Passed through to onnxruntime (threads, graph optimisation level); executionProviders is ours. */
  sessionOptions?: Omit<ort.InferenceSession.SessionOptions, 'executionProviders'>;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  ep: ExecutionProvider;
  /** Set when `auto` fell back to the CPU: one line saying why. */
  notice?: string;
}

/**
 * Opens an onnxruntime session for a model file or an in-memory Model. onnxruntime-node never falls back on its
 * own (asking for ['cuda', 'cpu'] without the CUDA libraries throws), so the fallback for `auto` happens here.
 */
export async function openSession(model: Model | string, opts: OpenSessionOptions = {}): Promise<OpenedSession> {
  const choice = opts.ep ?? 'auto';
  quietOrt();
  if (choice !== 'cpu') {
    const probe = await probeProvider('cuda');
    let reason = probe.reason;
    if (probe.available) {
      try {
        // CPU after CUDA: ops the CUDA provider lacks run on the CPU, as onnxruntime places them.
        return { session: await create(model, ['cuda', 'cpu'], opts), ep: 'cuda' };
      } catch (e) {
        reason = (e as Error).message.split('\n')[0];
      }
    }
    if (choice === 'cuda') fail(`--ep cuda: the CUDA execution provider does not load here: ${reason} ('onnx-cprune doctor' says how to enable it)`);
    const session = await create(model, ['cpu'], opts);
    // The fallback is said once per process, not once per session (prune --finetune --validate opens several).
    if (fallbackAnnounced) return { session, ep: 'cpu' };
    fallbackAnnounced = true;
    return { session, ep: 'cpu', notice: `CUDA execution provider unavailable, running on CPU: ${reason}` };
  }
  return { session: await create(model, ['cpu'], opts), ep: 'cpu' };
}

let fallbackAnnounced = false;

async function create(model: Model | string, eps: string[], opts: OpenSessionOptions): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { ...opts.sessionOptions, executionProviders: eps };
  try {
    if (typeof model === 'string') return await ort.InferenceSession.create(model, options);
    if (!usesExternalData(model.graph)) return await ort.InferenceSession.create(encodeModel(model), options);
    return await createBesideWeights(model, options);
  } catch (e) {
    if (eps.includes('cuda')) throw e;
    fail(`onnxruntime cannot load ${typeof model === 'string' ? `'${model}'` : 'the model'}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * onnxruntime resolves external-data locations against the model file's folder and cannot be told another folder
 * for a model given as bytes, so the model (without its weights) is written next to the weights for the load.
 */
async function createBesideWeights(model: Model, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const path = join(model.baseDir, `.onnx-cprune-session-${process.pid}-${Date.now()}.onnx`);
  try {
    writeFileSync(path, encodeModel(model));
  } catch (e) {
    fail(`cannot write a temporary model beside the external weights in '${model.baseDir}' (${(e as Error).message.split('\n')[0]}); pass the model file path instead`);
  }
  try {
    return await ort.InferenceSession.create(path, options);
  } finally {
    try { unlinkSync(path); } catch { /* already gone */ }
  }
}

function usesExternalData(g: Graph): boolean {
  if (g.initializers.some((v) => v.initializer?.external)) return true;
  return g.nodes.some((n) => [...n.subgraphs.values()].some((subs) => subs.some(usesExternalData)));
}

