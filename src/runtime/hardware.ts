import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { autoRoundMultiple, type CpuFeatures, type RoundingChoice } from '../passes/policy/rounding.js';
import { probeProvider } from './providers.js';
import type { EpChoice, ExecutionProvider } from './session.js';

/**
 * The CPU's feature flags: Linux from /proc/cpuinfo's first `flags` line; macOS on Intel from sysctl's
 * machdep.cpu.features / leaf7_features (AVX2, AVX512F). Elsewhere (Windows) there is no dependency-free way to
 * read them: `flags` stays undefined and autoRoundMultiple falls back (see its comment).
 */
export function cpuFeatures(): CpuFeatures {
  const arch = process.arch;
  try {
    if (process.platform === 'linux') {
      const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
      if (line) return { arch, flags: new Set(line.split(':')[1]!.trim().toLowerCase().split(/\s+/)) };
    } else if (process.platform === 'darwin' && arch === 'x64') {
      const text = execFileSync('sysctl', ['-n', 'machdep.cpu.features', 'machdep.cpu.leaf7_features'], { encoding: 'utf8', timeout: 5000 });
      const flags = text.toLowerCase().split(/\s+/).filter(Boolean).map((f) => f.replace(/\.\d+$/, ''));
      // sysctl spells them AVX2, FMA, AVX512F; /proc/cpuinfo's names are the lower-case forms.
      return { arch, flags: new Set(flags) };
    }
  } catch {
    // Unreadable: fall through to "unknown".
  }
  return { arch };
}

/** Which provider the models will run on for `choice`: `auto` is CUDA when its provider loads here. */
export async function targetProvider(choice: EpChoice): Promise<ExecutionProvider> {
  if (choice !== 'auto') return choice;
  return (await probeProvider('cuda')).available ? 'cuda' : 'cpu';
}

/** `--round-to auto` for models that will run on `choice`. */
export async function autoRounding(choice: EpChoice): Promise<RoundingChoice> {
  return autoRoundMultiple({ ep: await targetProvider(choice), cpu: cpuFeatures() });
}
