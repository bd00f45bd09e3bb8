import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ortBinaryDir, ortVersion } from './ort.js';
import { probeProvider, type ProviderProbe } from './providers.js';

export interface BackendProbe {
  name: string;
  available: boolean;
  reason?: string;
}

export interface DoctorReport {
  node: string;
  platform: string;
  onnxruntime: { version: string; binaryDir: string };
  /** cpu, cuda and tensorrt: whether each loads, and why not. */
  providers: ProviderProbe[];
  /** First line of /proc/driver/nvidia/version, or null without an NVIDIA driver. */
  nvidiaDriver: string | null;
  /** What to do to get the CUDA provider, when it does not load. */
  enableCuda: string[];
  /** TensorFlow.js backends that load here (fine-tuning runs on these). */
  tfjs: BackendProbe[];
}

/** What can run here: Node, onnxruntime and its execution providers, TensorFlow.js backends. */
export async function doctor(): Promise<DoctorReport> {
  const providers: ProviderProbe[] = [];
  for (const name of ['cpu', 'cuda', 'tensorrt'] as const) providers.push(await probeProvider(name));
  const cuda = providers.find((p) => p.name === 'cuda')!;
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    onnxruntime: { version: ortVersion(), binaryDir: ortBinaryDir() },
    providers,
    nvidiaDriver: nvidiaDriver(),
    enableCuda: cuda.available ? [] : cudaInstructions(),
    tfjs: await tfjsBackends(),
  };
}

function cudaInstructions(): string[] {
  const bin = ortBinaryDir();
  return [
    'CUDA 12 (with cuDNN 9): ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node  (downloads the CUDA provider; needs network access)',
    `  if npm skips install scripts: ONNXRUNTIME_NODE_INSTALL=cuda12 node ${join(bin, '..', '..', '..', '..', 'script', 'install.js')}`,
    `CUDA 13: npm pack com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 (a CUDA 13 build of the ${ortVersion()} CUDA provider), untar it, and copy package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so into ${bin}`,
    'then put the CUDA and cuDNN libraries on LD_LIBRARY_PATH (e.g. /usr/local/cuda/targets/x86_64-linux/lib) and check with: onnx-cprune doctor',
  ];
}

function nvidiaDriver(): string | null {
  try {
    return readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

/** A light probe: import each backend package and ask tfjs-core to activate it. */
async function tfjsBackends(): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  let tf: typeof import('@tensorflow/tfjs-core');
  try {
    tf = await import('@tensorflow/tfjs-core');
  } catch (e) {
    return [{ name: 'tfjs-core', available: false, reason: firstLine(e) }];
  }
  // tfjs-node and tfjs-node-gpu are optional and not dependencies: name them through variables so TypeScript does not
  // resolve them at build time.
  const candidates: [string, string][] = [['tensorflow (tfjs-node-gpu)', '@tensorflow/tfjs-node-gpu'], ['tensorflow (tfjs-node)', '@tensorflow/tfjs-node'], ['wasm', '@tensorflow/tfjs-backend-wasm'], ['cpu', '@tensorflow/tfjs-backend-cpu']];
  for (const [name, pkg] of candidates) {
    try {
      await import(pkg);
      const backend = name.startsWith('tensorflow') ? 'tensorflow' : name;
      const ok = await tf.setBackend(backend);
      out.push(ok ? { name, available: true } : { name, available: false, reason: `${pkg} is installed but the backend did not initialise` });
    } catch (e) {
      const code = (e as { code?: string }).code;
      out.push({ name, available: false, reason: code === 'ERR_MODULE_NOT_FOUND' ? `${pkg} is not installed` : firstLine(e) });
    }
  }
  return out;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();
}

/** The doctor report as terminal lines. */
export function formatDoctorReport(r: DoctorReport): string {
  const lines = [
    `node         ${r.node} (${r.platform})`,
    `onnxruntime  ${r.onnxruntime.version} (${r.onnxruntime.binaryDir})`,
    `nvidia       ${r.nvidiaDriver ?? 'no NVIDIA driver loaded'}`,
    'execution providers:',
    ...r.providers.map((p) => `  ${p.name.padEnd(10)} ${p.available ? 'loads' : `no: ${p.reason}`}`),
  ];
  if (r.enableCuda.length > 0) lines.push('to enable CUDA:', ...r.enableCuda.map((l) => `  ${l}`));
  lines.push('TensorFlow.js backends:', ...r.tfjs.map((b) => `  ${b.name.padEnd(26)} ${b.available ? 'available' : `no: ${b.reason}`}`));
  return lines.join('\n');
}
