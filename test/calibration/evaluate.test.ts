/**
 * `evaluate`: perplexity against the torch modules the decoder fixtures were exported from (same windows, torch's
 * cross-entropy in float64), the trained byte-level LM against the held-out figure its training script computed in
 * torch, text read as bytes equal to the same bytes as a .npy, accuracy equal to `validate`'s, and the refusals.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateModel } from '../../src/runtime/evaluate.js';
import { validateModels } from '../../src/runtime/validate.js';
import { DECODER_FIXTURES } from '../decoders/helpers.js';
import { describeWith, FASHION_MNIST, FIXTURES, runCli, runPython, tempDir, writeNpy } from '../support/index.js';
import { encodeModel } from '../../src/ir/save.js';
import { writeSamples, writeTokenWindows } from './helpers.js';
import { mlp } from './models.js';

const dir = tempDir('calib-eval');
const TRAINED = join(FIXTURES, 'trained');

function windows(name: string, count: number, length: number, vocab: number, seed: number): string {
  return writeTokenWindows(join(dir, `${name}.npy`), count, length, vocab, seed);
}

describeWith(['torch', 'numpy'], 'perplexity against torch', () => {
  for (const f of DECODER_FIXTURES.filter((x) => x.kind === 'plain')) {
    it(`${f.name}`, async () => {
      const ids = windows(f.name, 3, 21, f.config.vocab, 5);
      const want = runPython<{ nll: number; predictions: number }>('perplexity_reference.py', [], { input: { config: f.config, seed: f.seed, ids } });
      const got = (await evaluateModel(f.path, ids, { ep: 'cpu', batch: 2 })).perplexity!;
      expect(got.predictions).toBe(want.predictions);
      expect(got.windows).toBe(3);
      expect(Math.abs(got.nll - want.nll) / want.nll).toBeLessThan(1e-5);
      expect(got.perplexity).toBeCloseTo(Math.exp(got.nll), 8);
      expect(got.bitsPerByte).toBeUndefined();
    });
  }
});

describe('the trained byte-level LM (fixtures/trained/lm_kjv*)', () => {
  it('reproduces the held-out sample NLL its training script computed in torch, with and without the cache', async () => {
    const manifest = JSON.parse(readFileSync(join(TRAINED, 'lm_kjv.json'), 'utf8')) as { heldOutSample: { file: string; windows: number; nllNats: number } };
    const sample = manifest.heldOutSample;
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

describeWith(['fashion-mnist'], 'accuracy', () => {
  it('equals validate\'s accuracy of the same model on the same samples', async () => {
    const model = join(TRAINED, 'vgg_fashion.onnx');
    const opts = { limit: 700, seed: 2 };
    const got = await evaluateModel(model, FASHION_MNIST, { ep: 'cpu', ...opts });
    const v = await validateModels(model, model, { ep: 'cpu', data: FASHION_MNIST, dataOptions: { split: 'test', ...opts }, seed: 2, latency: false });
    expect(got.accuracy!.samples).toBe(700);
    expect(got.accuracy!.accuracy).toBe(v.accuracy!.original);
  });
});

describe('a model with a fixed batch size', () => {
  it('runs batches of that size, the last one padded: the accuracy of the same model with a dynamic batch', async () => {
    const { path } = writeSamples(dir, 'fixed', 23, [12], 8);
    writeNpy(join(dir, 'fixed_labels.npy'), BigInt64Array.from({ length: 23 }, (_, i) => BigInt((i * 7) % 10)), [23]);
    const accuracy = async (batch: number | string) => {
      const file = join(dir, `mlp-${batch}.onnx`);
      writeFileSync(file, encodeModel(mlp(batch).model));
      return (await evaluateModel(file, path, { ep: 'cpu', batch: 4 })).accuracy!;
    };
    const dynamic = await accuracy('N');
    const fixed = await accuracy(5);
    expect(fixed.samples).toBe(23);
    expect(fixed).toEqual(dynamic);
    expect(dynamic.accuracy).toBeGreaterThan(0);
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
