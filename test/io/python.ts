import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The system interpreter with Debian's python3-onnx / numpy (not whatever `python3` is first on PATH). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

const CHECKER = fileURLToPath(new URL('./check_models.py', import.meta.url));
const available = new Map<string, boolean>();

/** Whether the system python can import `module` (tests whose oracle is missing skip instead of failing). */
export function pythonHas(module: 'onnx' | 'numpy' | 'torch'): boolean {
  let ok = available.get(module);
  if (ok === undefined) available.set(module, (ok = spawnSync(SYSTEM_PYTHON, ['-c', `import ${module}`]).status === 0));
  return ok;
}

/**
 * Debian python3-onnx's checker verdict per path: "ok" or the error's first line. One interpreter for all paths;
 * `full` adds the checker's shape inference (full_check).
 */
export function checkModels(paths: string[], opts: { full?: boolean } = {}): Record<string, string> {
  const args = opts.full ? ['--full', ...paths] : paths;
  const out = execFileSync(SYSTEM_PYTHON, [CHECKER, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as Record<string, string>;
}
