import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel } from '../../src/ir/save.js';
import { checkModels, pythonHas } from '../io/python.js';

/**
 * ONNX's own test models (Debian libonnx-testdata, 1072 of them): every one decodes and encodes back byte for byte,
 * and for a sample, Debian python3-onnx's checker gives what we write the verdict it gives the original.
 */

const DATA = '/usr/share/libonnx-testdata/data';
const present = existsSync(DATA);
const models = present
  ? readdirSync(DATA, { recursive: true }).map(String).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(DATA, f))
  : [];
const suites = [...new Set(models.map((m) => relative(DATA, m).split('/')[0]!))];

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'cprune-conformance-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe.skipIf(!present)('libonnx-testdata', () => {
  it('has the models', () => {
    expect(models.length).toBeGreaterThan(1000);
  });

  it.each(suites)('%s: every model round-trips byte-identically', (suite) => {
    const failures = models.filter((m) => relative(DATA, m).startsWith(suite + '/')).map(roundTripFailure).filter(Boolean);
    expect(failures).toEqual([]);
  });

  it.skipIf(!pythonHas('onnx'))('the checker treats what we write as it treats the original (every 20th model)', () => {
    const sample = models.filter((_, i) => i % 20 === 0);
    const ours = sample.map((m, i) => {
      const out = join(dir, `${i}.onnx`);
      writeFileSync(out, encodeModel(decodeModel(readFileSync(m), { baseDir: dirname(m), source: m })));
      return out;
    });
    const verdictOurs = checkModels(ours);
    const verdictOriginal = checkModels(sample);
    expect(Object.values(verdictOriginal).filter((v) => v === 'ok').length).toBeGreaterThan(sample.length / 2);
    sample.forEach((m, i) => expect(verdictOurs[ours[i]!], relative(DATA, m)).toBe(verdictOriginal[m]));
  });
});

if (!present) {
  describe('libonnx-testdata', () => {
    it.skip(`${DATA} is absent: install Debian's libonnx-testdata (.ci/run does) to run the conformance tests`, () => {});
  });
}
