/**
 * `evaluate`: perplexity against the torch modules the decoder fixtures were exported from (same windows, torch's
 * cross-entropy in float64), the trained byte-level LM against the held-out figure its training script computed in
 * torch, text read as bytes equal to the same bytes as a .npy, accuracy equal to `validate`'s, and the refusals.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../bench/paper/npyWrite.js';
import { evaluateModel } from '../../src/runtime/evaluate.js';
import { validateModels } from '../../src/runtime/validate.js';
import { runCli } from '../cli/runCli.js';
import { DECODER_FIXTURES } from '../decoders/helpers.js';
import { rng } from '../dependency/helpers/run.js';
import { pythonHas, SYSTEM_PYTHON } from '../io/python.js';
import { tempDir } from '../prune/helpers.js';

const { dir, cleanup } = tempDir('calib-eval-');
afterAll(cleanup);
const REFERENCE = fileURLToPath(new URL('./perplexity_reference.py', import.meta.url));
const TRAINED = fileURLToPath(new URL('../../fixtures/trained/', import.meta.url));
const LM_MANIFEST = join(TRAINED, 'lm_kjv.json');
const FASHION = '/usr/share/datasets/fashion-mnist';

function windows(name: string, count: number, length: number, vocab: number, seed: number): string {
  const r = rng(seed);
  const path = join(dir, `${name}.npy`);
  writeNpy(path, BigInt64Array.from({ length: count * length }, () => BigInt(Math.floor(r() * vocab))), [count, length]);
  return path;
}

describe.skipIf(!pythonHas('torch') || !pythonHas('numpy'))('perplexity against torch', () => {
  for (const f of DECODER_FIXTURES.filter((x) => x.kind === 'plain')) {
    it(`${f.name}`, async () => {
      const ids = windows(f.name, 3, 21, f.config.vocab, 5);
      const want = JSON.parse(execFileSync(SYSTEM_PYTHON, [REFERENCE], { input: JSON.stringify({ config: f.config, seed: f.seed, ids }), encoding: 'utf8' })) as { nll: number; predictions: number };
      const got = (await evaluateModel(f.path, ids, { ep: 'cpu', batch: 2 })).perplexity!;
      expect(got.predictions).toBe(want.predictions);
      expect(got.windows).toBe(3);
      expect(Math.abs(got.nll - want.nll) / want.nll).toBeLessThan(1e-5);
      expect(got.perplexity).toBeCloseTo(Math.exp(got.nll), 8);
      expect(got.bitsPerByte).toBeUndefined();
    });
  }
});

describe.skipIf(!existsSync(LM_MANIFEST))('the trained byte-level LM', () => {
  const manifest = existsSync(LM_MANIFEST) ? JSON.parse(readFileSync(LM_MANIFEST, 'utf8')) as { heldOutSample: { file: string; windows: number; nllNats: number } } : undefined;
  it('reproduces the held-out sample NLL its training script computed in torch, with and without the cache', async () => {
    const sample = manifest!.heldOutSample;
    for (const file of ['lm_kjv.onnx', 'lm_kjv_cache.onnx']) {
      const got = (await evaluateModel(join(TRAINED, file), join(TRAINED, sample.file), { ep: 'cpu' })).perplexity!;
      expect(got.windows).toBe(sample.windows);
      expect(Math.abs(got.nll - sample.nllNats) / sample.nllNats, file).toBeLessThan(1e-5);
    }
  });

  it('cuts text into byte windows (stride = window, tail dropped): the same figures as those bytes as a .npy, in bits per byte', async () => {
    const text = 'In the beginning God created the heaven and the earth. And the earth was without form, and void.\n'.repeat(3);
    const txt = join(dir, 'genesis.txt');
    writeFileSync(txt, text);
    const bytes = Buffer.from(text);
    const count = Math.floor(bytes.length / 32);
    const npy = join(dir, 'genesis.npy');
    writeNpy(npy, BigInt64Array.from(bytes.subarray(0, count * 32), (b) => BigInt(b)), [count, 32]);
    const a = (await evaluateModel(join(TRAINED, 'lm_kjv.onnx'), txt, { ep: 'cpu', window: 32 })).perplexity!;
    const b = (await evaluateModel(join(TRAINED, 'lm_kjv.onnx'), npy, { ep: 'cpu' })).perplexity!;
    expect(a.windows).toBe(count);
    expect(a.nll).toBe(b.nll);
    expect(a.bitsPerByte).toBeCloseTo(a.nll / Math.LN2, 12);
    expect(b.bitsPerByte).toBeUndefined(); // ids from a .npy are not known to be bytes
  });
});

describe.skipIf(!existsSync(FASHION))('accuracy', () => {
  it('equals validate\'s accuracy of the same model on the same samples', async () => {
    const model = join(TRAINED, 'vgg_fashion.onnx');
    const opts = { limit: 700, seed: 2 };
    const got = await evaluateModel(model, FASHION, { ep: 'cpu', ...opts });
    const v = await validateModels(model, model, { ep: 'cpu', data: FASHION, dataOptions: { split: 'test', ...opts }, seed: 2, latency: false });
    expect(got.accuracy!.samples).toBe(700);
    expect(got.accuracy!.accuracy).toBe(v.accuracy!.original);
  });
});

function unlabelled(): string {
  const path = join(dir, 'images.npy');
  writeNpy(path, new Float32Array(3 * 28 * 28).fill(0.5), [3, 1, 28, 28]);
  return path;
}

describe('refusals (exit 2, one line)', () => {
  it('text for a model whose vocabulary is not bytes, --perplexity for a classifier, data without labels', () => {
    const txt = join(dir, 'words.txt');
    writeFileSync(txt, 'some words that are not token ids\n'.repeat(20));
    const llama = DECODER_FIXTURES.find((f) => f.name === 'llama')!.path;
    const cases: [string[], RegExp][] = [
      [['evaluate', llama, '--data', txt], /vocabulary has 128 tokens, not the 256 bytes .*tokenize the text/],
      [['evaluate', join(TRAINED, 'vgg_fashion.onnx'), '--data', windows('ids', 2, 8, 10, 1), '--perplexity'], /--perplexity needs a language model over token ids/],
      [['evaluate', join(TRAINED, 'vgg_fashion.onnx'), '--data', unlabelled()], /has no labels: accuracy needs labelled samples/],
      [['evaluate', join(TRAINED, 'vgg_fashion.onnx'), '--data', join(dir, 'missing.npy')], /does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !/CUDA execution provider/.test(l))).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
