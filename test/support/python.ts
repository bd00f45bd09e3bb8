import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './oracles.js';
import { withTempDir } from './temp.js';

/** The python oracle scripts, all in one folder. */
export const ORACLE_SCRIPTS = fileURLToPath(new URL('../oracles/', import.meta.url));

/**
 * Runs `test/oracles/<script>` with Debian's python3 and returns the JSON document it prints on stdout. `input`,
 * when given, goes to its stdin as JSON. A script that fails throws with its exit status and stderr.
 */
export function runPython<T>(script: string, args: readonly string[] = [], opts: { input?: unknown } = {}): T {
  const r = spawnSync(PYTHON, [join(ORACLE_SCRIPTS, script), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    input: opts.input === undefined ? '' : JSON.stringify(opts.input),
  });
  if (r.error) throw new Error(`${script}: cannot run ${PYTHON}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${script} exited with ${r.status ?? r.signal}: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Debian python3-onnx's checker on each model (a path, or bytes checked from a temp file), in one interpreter:
 * null where it passes, else its error's first line. `full` adds the checker's own shape inference.
 */
export function onnxCheck(models: readonly (string | Uint8Array)[], opts: { full?: boolean } = {}): (string | null)[] {
  return withTempDir('check', (dir) => {
    const paths = models.map((m, i) => {
      if (typeof m === 'string') return m;
      const p = join(dir, `m${i}.onnx`);
      writeFileSync(p, m);
      return p;
    });
    const verdicts = runPython<Record<string, string>>('check_models.py', opts.full ? ['--full', ...paths] : paths);
    return paths.map((p) => (verdicts[p] === 'ok' ? null : verdicts[p] ?? 'no verdict'));
  });
}
