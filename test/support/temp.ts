import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  readonly dir: string;
  /** Removes the folder and everything in it (safe to call twice). */
  cleanup(): void;
}

/**
 * A fresh folder under the system temp dir, `cprune-<prefix>-XXXXXX`. Typical use at the top of a test file:
 * `const { dir, cleanup } = tempDir('roundtrip'); afterAll(cleanup);`
 */
export function tempDir(prefix: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), `cprune-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
