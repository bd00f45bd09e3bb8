/**
 * The decoder oracles are tested before any engine relies on them: cache consistency holds on every unpruned cached
 * fixture and catches a broken cache; the masked original with nothing removed is the original, and with heads, KV
 * groups and FFN neurons removed it equals the torch slicing reference; the torch reference's slicing equals its
 * masking (hidden channels included); keep lists are read back from weights sliced by hand.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { constantFloat32 } from '../../src/ir/constants.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { Tensor } from '../../src/ir/tensor.js';
import { describeWith } from '../support/index.js';
import {
  cacheConsistency, DECODER_FIXTURES, decoderFixture, fixtureBytes, maskedOriginal, queryHeadsOf, randomKeep, readKeep,
  relative, tokens, torchLogits, torchReference, TOLERANCE, withDecoder, type DecoderFixture, type FullKeep, type Logits, type WeightRef,
} from './helpers.js';

const CACHED = DECODER_FIXTURES.filter((f) => f.cache);
const FAMILIES = ['llama', 'gpt2', 'qwen2'].map(decoderFixture);

describe('cache consistency oracle', () => {
  it.each(CACHED)('$name: prefill + token-by-token decoding through the cache equals one pass', async (fx) => {
    const ids = tokens(fx);
    const { error, cacheShapes } = await cacheConsistency(fixtureBytes(fx), ids, 3);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(cacheShapes).toEqual(fx.config.kvHeads.flatMap((kv) => [[2, kv, 7, fx.config.headDim], [2, kv, 7, fx.config.headDim]]));
  });

  it('catches a cache that is not the one the model wrote (zeros fed back)', async () => {
    const fx = decoderFixture('llama_cache');
    const ids = tokens(fx);
    await withDecoder(fixtureBytes(fx), async (d) => {
      const full = await d.full(ids);
      const { present } = await d.step(ids.map((r) => r.slice(0, 6)));
      const zeros = present.map((e) => ({ key: new ort.Tensor('float32', new Float32Array(e.key.size), e.key.dims), value: new ort.Tensor('float32', new Float32Array(e.value.size), e.value.dims) }));
      const last = await d.step(ids.map((r) => r.slice(6)), zeros);
      const vocab = fx.config.vocab;
      const expected = Float32Array.from([...full.data.subarray(6 * vocab, 7 * vocab), ...full.data.subarray(13 * vocab, 14 * vocab)]);
      expect(relative(last.logits.data, expected)).toBeGreaterThan(1e-2);
    });
  });
});

describe('masked original', () => {
  it.each(DECODER_FIXTURES)('$name: nothing removed gives the original logits bit for bit', async (fx) => {
    const ids = tokens(fx);
    const bytes = fixtureBytes(fx);
    const keep = randomKeep(fx, 1, {});
    const [a, b] = await Promise.all([withDecoder(maskedOriginal(fx, bytes, keep), (d) => d.full(ids)), withDecoder(bytes, (d) => d.full(ids))]);
    expect(a.data.every((x, i) => Object.is(x, b.data[i]))).toBe(true);
  });

  describeWith(['torch'], 'against the torch slicing reference', () => {
    const fixtures = DECODER_FIXTURES.filter((f) => !f.quantized);
    const keepOf = (fx: DecoderFixture) => randomKeep(fx, 5, { heads: 0.5, ffn: 0.4 });
    let sliced: Logits[] = [];
    beforeAll(() => { sliced = torchLogits(fixtures.map((fx) => ({ fx, ids: tokens(fx), keep: keepOf(fx) }))); });

    it.each(fixtures.map((fx, k) => ({ ...fx, k })))('$name: heads / KV groups and FFN neurons masked equal the torch reference with them sliced away', async (fx) => {
      const ids = tokens(fx);
      const masked = await withDecoder(maskedOriginal(fx, fixtureBytes(fx), keepOf(fx)), (d) => d.full(ids));
      const original = await withDecoder(fixtureBytes(fx), (d) => d.full(ids));
      expect(relative(masked.data, sliced[fx.k]!.data)).toBeLessThanOrEqual(TOLERANCE);
      expect(relative(masked.data, original.data), 'the removal changes the logits').toBeGreaterThan(1e-2);
    });
  });

  it('llama_nbits_cache: heads masked in a model with MatMulNBits layers equal the same heads masked in its float twin within quantization error', async () => {
    const fx = decoderFixture('llama_nbits_cache');
    const twin = decoderFixture('llama_gqa_cache');
    const ids = tokens(fx);
    const keep = randomKeep(fx, 5, { heads: 0.5 });
    const [a, b] = await Promise.all([withDecoder(maskedOriginal(fx, fixtureBytes(fx), keep), (d) => d.full(ids)), withDecoder(maskedOriginal(twin, fixtureBytes(twin), keep), (d) => d.full(ids))]);
    expect(relative(a.data, b.data)).toBeLessThan(0.05);
    expect(() => maskedOriginal(fx, fixtureBytes(fx), randomKeep(fx, 5, { ffn: 0.5 }))).toThrow(/int4/);
  });
});

describeWith(['torch'], 'torch reference', () => {
  it('slicing equals masking with KV groups / heads, FFN neurons and hidden channels removed (llama, gpt2, qwen2)', () => {
    const runs = FAMILIES.map((fx) => ({ fx, ids: tokens(fx), keeps: [randomKeep(fx, 11, { heads: 0.5, ffn: 0.3, hidden: 0.3 }), randomKeep(fx, 12, { hidden: 0.6 }), randomKeep(fx, 13, { heads: 0.6 })] }));
    const results = torchLogits(runs.flatMap(({ fx, ids, keeps }) => [{ fx, ids }, ...keeps.flatMap((keep) => [{ fx, ids, keep, mode: 'slice' as const }, { fx, ids, keep, mode: 'mask' as const }])]));
    let at = 0;
    for (const { fx, keeps } of runs) {
      const original = results[at++]!;
      for (let k = 0; k < keeps.length; k++) {
        const [sliced, masked] = [results[at++]!, results[at++]!];
        expect(sliced.dims).toEqual(original.dims);
        expect(relative(sliced.data, masked.data), `${fx.name} keep ${k}`).toBeLessThanOrEqual(TOLERANCE);
        expect(relative(sliced.data, original.data), `${fx.name} keep ${k} changes the logits`).toBeGreaterThan(1e-2);
      }
    }
  });

  it('rejects keep lists that are no model: unequal query heads per KV group, a query head without its KV head', () => {
    const fx = decoderFixture('llama');
    const ids = tokens(fx);
    const [unequal, orphan] = torchReference([{ fx, ids, keep: { layers: [{ heads: [0, 1, 2, 4] }, {}] } }, { fx, ids, keep: { layers: [{ heads: [0, 1, 2, 3], kvHeads: [1] }, {}] } }]);
    expect(unequal).toEqual({ error: expect.stringMatching(/same number/) });
    expect(orphan).toEqual({ error: expect.stringMatching(/removed KV head/) });
  });
});

// -------------------------------------------------------------------------------------------------------------
// readKeep on weights sliced by hand
// -------------------------------------------------------------------------------------------------------------

/** Replaces a weight by its [in, out]-oriented sub-matrix (rows `keepIn` of the input features, columns `keepOut`). */
function sliceWeight(model: Model, ref: WeightRef, keepIn: readonly number[] | undefined, keepOut: readonly number[] | undefined): void {
  const node = model.graph.nodes.find((n) => n.name === ref.node)!;
  const { dims, data } = constantFloat32(node.input(ref.input))!;
  const inAxis = ref.inAxis ?? 1 - ref.outAxis;
  const keepAxis = [0, 1].map((ax) => (ax === inAxis ? keepIn : keepOut) ?? Array.from({ length: dims[ax]! }, (_, i) => i));
  const out = new Float32Array(keepAxis[0]!.length * keepAxis[1]!.length);
  keepAxis[0]!.forEach((r, i) => keepAxis[1]!.forEach((c, j) => { out[i * keepAxis[1]!.length + j] = data[r * dims[1]! + c]!; }));
  node.setInput(ref.input, model.graph.addInitializer(Tensor.fromFloat32(`${ref.initializer}_sliced`, [keepAxis[0]!.length, keepAxis[1]!.length], out)));
}

/** The weights readKeep reads, sliced as a pruner would (the model does not run: only its weights are read). */
function handSliced(fx: DecoderFixture, keep: FullKeep): Uint8Array {
  const model = decodeModel(fixtureBytes(fx));
  const hd = fx.config.headDim;
  const lines = (units: number[], width: number) => units.flatMap((u) => Array.from({ length: width }, (_, j) => u * width + j));
  sliceWeight(model, fx.layout.embed, undefined, keep.hidden);
  fx.layout.layers.forEach((l, i) => {
    const lk = keep.layers[i]!;
    sliceWeight(model, l.o!, lines(lk.heads, hd), keep.hidden);
    if (!l.down!.quantized) sliceWeight(model, l.down!, lk.ffn, keep.hidden);
    if (l.qkv) {
      const [q, k] = l.qkv.sections!;
      const kv = lines(lk.kvHeads, hd);
      sliceWeight(model, l.qkv, keep.hidden, [...lines(lk.heads, hd), ...kv.map((c) => c + q!.size), ...kv.map((c) => c + q!.size + k!.size)]);
    } else sliceWeight(model, l.k!, keep.hidden, lines(lk.kvHeads, hd));
  });
  return encodeModel(model);
}

describe('readKeep', () => {
  it.each(DECODER_FIXTURES)('$name: reads back the keep lists of weights sliced by hand', (fx) => {
    const keep = randomKeep(fx, 21, { heads: 0.5, ffn: 0.3, hidden: 0.25 });
    const read = readKeep(fx, fixtureBytes(fx), handSliced(fx, keep));
    expect(read.hidden).toEqual(keep.hidden);
    read.layers.forEach((l, i) => {
      const want = keep.layers[i]!;
      expect(l.heads, `layer ${i} heads`).toEqual(want.heads);
      expect(l.kvHeads, `layer ${i} kvHeads`).toEqual(want.kvHeads);
      expect(l.heads, `layer ${i}: the query heads of the kept KV heads`).toEqual(fx.config.kvHeads[i]! < fx.config.heads[i]! ? queryHeadsOf(fx.config, i, l.kvHeads) : l.kvHeads);
      expect(l.ffn, `layer ${i} ffn`).toEqual(fx.layout.layers[i]!.down!.quantized ? Array.from({ length: fx.config.ffn[i]! }, (_, n) => n) : want.ffn);
    });
  });

  it('reads an unpruned model as keeping everything, and refuses weights that are not copies of the original', () => {
    const fx = decoderFixture('qwen2_cache');
    const bytes = fixtureBytes(fx);
    const all = readKeep(fx, bytes, bytes);
    expect(all.hidden).toHaveLength(fx.config.hidden);
    expect(all.layers.map((l) => [l.heads.length, l.kvHeads.length, l.ffn.length])).toEqual([[6, 2, 80], [6, 2, 80]]);
    const model = decodeModel(bytes);
    const embed = fx.layout.embed;
    const v = model.graph.initializers.find((x) => x.name === embed.initializer)!;
    const data = v.initializer!.toFloat32().map((x) => x * 1.5);
    v.initializer = Tensor.fromFloat32(v.name, embed.shape, data);
    expect(() => readKeep(fx, bytes, encodeModel(model))).toThrow(/equals no original block/);
  });
});
