import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModels } from '../../io/python.js';

/** Debian python3-onnx's full checker (with its shape inference) on each model; maps index → error or null. */
export function onnxCheck(models: readonly Uint8Array[]): (string | null)[] {
  const dir = mkdtempSync(join(tmpdir(), 'cprune-check-'));
  try {
    const paths = models.map((m, i) => {
      const p = join(dir, `m${i}.onnx`);
      writeFileSync(p, m);
      return p;
    });
    const verdicts = checkModels(paths, { full: true });
    return paths.map((p) => (verdicts[p] === 'ok' ? null : verdicts[p] ?? 'no verdict'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
