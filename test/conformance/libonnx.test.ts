import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel } from '../../src/ir/save.js';
import { describeWith, has, itWith, LIBONNX_TESTDATA as DATA, onnxCheck, tempDir } from '../support/index.js';

/**
 * ONNX's own test models (Debian libonnx-testdata, 1072 of them): every one decodes and encodes back byte for byte,
 * and for a sample, Debian python3-onnx's checker gives what we write the verdict it gives the original.
 */

const models = has('libonnx-testdata')
  ? readdirSync(DATA, { recursive: true }).map(String).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(DATA, f))
  : [];
const suites = [...new Set(models.map((m) => relative(DATA, m).split('/')[0]!))];

const dir = tempDir('conformance');

function roundTripFailure(path: string): string | undefined {
  const original = readFileSync(path);
  try {
    const again = encodeModel(decodeModel(original, { baseDir: dirname(path), source: path }));
    if (Buffer.from(again.buffer, again.byteOffset, again.byteLength).equals(original)) return undefined;
    return `${relative(DATA, path)}: ${again.byteLength} bytes written, ${original.byteLength} read`;
  } catch (e) {
    return `${relative(DATA, path)}: ${(e as Error).message}`;
  }
}

describeWith(['libonnx-testdata'], 'libonnx-testdata', () => {
  it('has the models', () => {
    expect(models.length).toBeGreaterThan(1000);
  });

  it.each(suites)('%s: every model round-trips byte-identically', (suite) => {
    const failures = models.filter((m) => relative(DATA, m).startsWith(suite + '/')).map(roundTripFailure).filter(Boolean);
    expect(failures).toEqual([]);
  });

  itWith(['onnx'], 'the checker treats what we write as it treats the original (every 20th model)', () => {
    const sample = models.filter((_, i) => i % 20 === 0);
    const ours = sample.map((m, i) => {
      const out = join(dir, `${i}.onnx`);
      writeFileSync(out, encodeModel(decodeModel(readFileSync(m), { baseDir: dirname(m), source: m })));
      return out;
    });
    const verdictOurs = onnxCheck(ours);
    const verdictOriginal = onnxCheck(sample);
    expect(verdictOriginal.filter((v) => v === null).length).toBeGreaterThan(sample.length / 2);
    sample.forEach((m, i) => expect(verdictOurs[i], relative(DATA, m)).toBe(verdictOriginal[i]));
  });
});
