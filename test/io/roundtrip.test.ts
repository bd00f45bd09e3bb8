import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import { encodeModel, saveModel } from '../../src/ir/save.js';
import { smallConvNet } from '../cli/models.js';
import { fixtureModels, itWith, onnxCheck, paddleModels, runCli, tempDir } from '../support/index.js';

/**
 * A model no pass touched is written back byte for byte, through the API and through
 * `onnx-cprune in -o out --ratio 0`, and what we write passes Debian python3-onnx's checker.
 */

const models = [...fixtureModels(), ...paddleModels()];
const dir = tempDir('roundtrip');

/** Compares without vitest diffing megabytes: the first differing offset is what helps. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let i = 0;
  while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
  expect.fail(`${what}: ${a.length} bytes vs ${b.length} expected, first difference at offset ${i}`);
}

describe('round trip', () => {
  it('a builder model: encode(decode(bytes)) is bytes', () => {
    const bytes = smallConvNet();
    expectSameBytes(encodeModel(decodeModel(bytes)), bytes, 'builder model');
  });

  it.each(models.map((p) => [basename(p), p]))('API, byte-identical: %s', (_name, path) => {
    const original = readFileSync(path);
    expectSameBytes(encodeModel(loadModel(path)), original, 'encodeModel');
    const out = join(dir, `api-${basename(path)}`);
    saveModel(loadModel(path), out);
    expectSameBytes(readFileSync(out), original, 'saveModel');
  });

  it.each(models.map((p) => [basename(p), p]))('CLI --ratio 0, byte-identical: %s', (_name, path) => {
    const out = join(dir, `cli-${basename(path)}`);
    const r = runCli([path, '-o', out, '--ratio', '0']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectSameBytes(readFileSync(out), readFileSync(path), 'CLI output');
  });

  itWith(['onnx'], 'what we wrote passes the onnx checker (when the original does)', () => {
    const written = models.map((p) => join(dir, `checked-${basename(p)}`));
    models.forEach((p, i) => saveModel(loadModel(p), written[i]!));
    const builder = join(dir, 'builder.onnx');
    saveModel(decodeModel(smallConvNet(), { baseDir: dirname(builder) }), builder);
    const [ourBuilder, ...ours] = onnxCheck([builder, ...written]);
    const originals = onnxCheck(models);
    expect(ourBuilder).toBeNull();
    models.forEach((p, i) => expect(ours[i], basename(p)).toBe(originals[i]));
  });
});
