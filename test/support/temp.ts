import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * A temp folder for the tests of a file or describe block: call it there (not inside a test or hook). The path is
 * known at once; the folder `cprune-<prefix>-XXXXXXXX` is created before the block's tests and removed after them
 * (so write into it from hooks and tests only), and never made when they are all skipped.
 */
export function tempDir(prefix: string): string {
  const dir = join(tmpdir(), `cprune-${prefix}-${randomUUID().slice(0, 8)}`);
  beforeAll(() => {
    mkdirSync(dir, { mode: 0o700 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A temp folder for the duration of `fn`, inside a test or a helper. */
export function withTempDir<T>(prefix: string, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), `cprune-${prefix}-`));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
