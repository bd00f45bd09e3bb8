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

/**
 * Runs `f` with the process's stdout and stderr writes captured (the CLI's own output, not native logs): the CLI's
 * main() (cli/program.ts) in this process, for tests that run it many times.
 */
export async function captureOutput(f: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = process.stdout.write;
  const err = process.stderr.write;
  let stderr = '';
  let stdout = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await f(), stdout, stderr };
  } catch (e) {
    return { code: -1, stdout, stderr: `${stderr}escaped main(): ${(e as Error)?.stack ?? String(e)}` };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
