import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI, as users run it. `npm test` builds first; run `npm run build` before running test files alone. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the process had to be killed for running past the hang guard. */
  timedOut: boolean;
}

/** Runs `node dist/cli/main.js ...args`; a run past `hangGuardMs` is killed (a hang, not a slow machine). */
export function runCli(args: readonly string[], opts: { cwd?: string; hangGuardMs?: number } = {}): CliResult {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: opts.hangGuardMs ?? 60_000,
    // A memory cap turns an allocation bomb into a crash the test sees, instead of a swapping machine.
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=1024' },
  });
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
  };
}
