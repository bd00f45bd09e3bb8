import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = `
import json, sys, onnx
out = {}
for p in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(p), full_check=True)
        out[p] = None
    except Exception as e:
        out[p] = str(e).splitlines()[0][:300]
print(json.dumps(out))
`;

/** Debian python3-onnx's full checker (with its shape inference) on each model; maps index → error or null. */
export function onnxCheck(models: readonly Uint8Array[]): (string | null)[] {
  const dir = mkdtempSync(join(tmpdir(), 'cprune-check-'));
  try {
    const paths = models.map((m, i) => {
      const p = join(dir, `m${i}.onnx`);
      writeFileSync(p, m);
      return p;
    });
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', SCRIPT, ...paths], { encoding: 'utf8' })) as Record<string, string | null>;
    return paths.map((p) => out[p] ?? null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
