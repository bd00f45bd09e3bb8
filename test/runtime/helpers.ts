import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const ROOT = join(FIXTURES, '..', '..', '..');

/** Runs a reference script with Debian's python3 (numpy, onnx, torch, PIL) and parses the JSON it prints. */
export function python<T = unknown>(script: string, ...args: string[]): T {
  const r = spawnSync('/usr/bin/python3', [join(FIXTURES, script), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cprune-${prefix}-`));
}

/** Builds the project (tsc emits even when a file elsewhere has type errors) so tests run the real CLI. */
export function buildCli(): string {
  spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  return join(ROOT, 'dist', 'cli', 'main.js');
}

export function runCli(cli: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
