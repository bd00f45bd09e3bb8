/**
 * The decoder fixtures are what they claim: the committed files match their manifests, run in onnxruntime with the
 * declared outputs, the fused graphs compute the logits of the plain export they were built from (MatMulNBits: of
 * its own dequantized twin), Debian's checker accepts them, and the torch module that generated them gives the
 * logits onnxruntime computes.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantSource } from '../../src/ir/constants.js';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel } from '../../src/ir/save.js';
import { Tensor } from '../../src/ir/tensor.js';
import { itWith, onnxCheck } from '../support/index.js';
import { DECODER_FIXTURES, decoderFixture, fixtureBytes, relative, tokens, torchLogits, TOLERANCE, withDecoder } from './helpers.js';

const FUSED = DECODER_FIXTURES.filter((f) => f.kind === 'fused');

/**
 * The model with every MatMulNBits replaced by a MatMul on its dequantized weight: w[k, n] = (q − zp) · scale per
 * block of `block_size` rows, q the k-th nibble (low nibble first) of row n of B, zp 8 when no zero points are given.
 */
function dequantized(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes);
  const g = model.graph;
  for (const node of g.nodes.filter((n) => n.opType === 'MatMulNBits')) {
    const K = node.getInt('K')!;
    const N = node.getInt('N')!;
    const block = node.getInt('block_size')!;
    if (node.getInt('bits', 4) !== 4) throw new Error('dequantized: only 4-bit weights');
    const b = constantSource(node.input(1))!.tensor.bytes();
    const scales = constantSource(node.input(2))!.tensor.toFloat32();
    const zeros = node.input(3) ? constantSource(node.input(3))!.tensor.bytes() : undefined;
    const blocks = Math.ceil(K / block);
    const nibble = (bytes: Uint8Array, i: number) => (bytes[i >> 1]! >> ((i & 1) * 4)) & 15;
    const w = new Float32Array(K * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
      const blk = Math.floor(k / block);
      const q = nibble(b, (n * blocks + blk) * block + (k % block));
      const zp = zeros ? nibble(zeros, n * Math.ceil(blocks / 2) * 2 + blk) : 8;
      w[k * N + n] = (q - zp) * scales[n * blocks + blk]!;
    }
    const weight = g.addInitializer(Tensor.fromFloat32(g.freshName(`${node.name}.dequantized`), [K, N], w));
    node.opType = 'MatMul';
    node.domain = '';
    node.attributes = [];
    node.setInputs([node.input(0)!, weight]);
  }
  return encodeModel(model);
}

describe('decoder fixtures', () => {
  it('the manifests describe the committed files (sha256)', () => {
    expect(DECODER_FIXTURES.map((f) => f.name).sort()).toEqual([
      'gpt2', 'gpt2_attention', 'gpt2_cache', 'gpt2_mha_cache', 'llama', 'llama_cache', 'llama_gqa_cache', 'llama_nbits_cache',
      'llama_onnx23_cache', 'qwen2', 'qwen2_cache', 'qwen2_rotary_cache',
    ]);
    for (const f of DECODER_FIXTURES) expect(createHash('sha256').update(fixtureBytes(f)).digest('hex'), f.name).toBe(f.sha256);
  });

  it.each(DECODER_FIXTURES)('$name runs in onnxruntime with the declared outputs (batch 2, 7 tokens)', async (fx) => {
    const ids = tokens(fx);
    await withDecoder(fixtureBytes(fx), async (d) => {
      const { logits, present } = await d.step(ids);
      expect(logits.dims).toEqual([2, 7, fx.config.vocab]);
      expect(logits.data.every(Number.isFinite)).toBe(true);
      expect(d.cacheLayers).toBe(fx.cache ? fx.config.layers : 0);
      present.forEach((e, i) => {
        expect(e.key.dims, `present.${i}.key`).toEqual([2, fx.config.kvHeads[i], 7, fx.config.headDim]);
        expect(e.value.dims, `present.${i}.value`).toEqual([2, fx.config.kvHeads[i], 7, fx.config.headDim]);
        expect(d.declared(`past_key_values.${i}.key`)).toEqual(['batch_size', fx.config.kvHeads[i], 'past_sequence_length', fx.config.headDim]);
      });
    });
  });

  it.each(FUSED.filter((f) => !f.quantized))('$name computes the logits of its plain twin', async (fx) => {
    const ids = tokens(fx);
    const plain = decoderFixture(fx.weightsFrom);
    const [a, b] = await Promise.all([withDecoder(fixtureBytes(fx), (d) => d.full(ids)), withDecoder(fixtureBytes(plain), (d) => d.full(ids))]);
    expect(relative(a.data, b.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each(FUSED.filter((f) => f.quantized))('$name computes its dequantized twin, and the float model within quantization error', async (fx) => {
    const ids = tokens(fx);
    const bytes = fixtureBytes(fx);
    expect(decodeModel(bytes).graph.nodes.filter((n) => n.opType === 'MatMulNBits')).toHaveLength(3);
    const [q, dq, float] = await Promise.all([
      withDecoder(bytes, (d) => d.full(ids)), withDecoder(dequantized(bytes), (d) => d.full(ids)),
      withDecoder(fixtureBytes(decoderFixture(fx.weightsFrom)), (d) => d.full(ids)),
    ]);
    expect(relative(q.data, dq.data)).toBeLessThanOrEqual(TOLERANCE);
    const error = relative(q.data, float.data);
    expect(error).toBeGreaterThan(1e-4);
    expect(error).toBeLessThan(0.05);
  });

  // The others (opset 23; SimplifiedLayerNormalization in the default domain) are checked by onnxruntime loading them.
  itWith(['onnx'], 'Debian python3-onnx full checker accepts every fixture it can check', () => {
    const checked = DECODER_FIXTURES.filter((f) => f.checker === 'python3-onnx');
    expect(checked.map((f) => f.name).sort()).toEqual(['gpt2', 'gpt2_attention', 'gpt2_cache', 'gpt2_mha_cache', 'llama', 'llama_cache', 'qwen2', 'qwen2_cache']);
    const verdicts = onnxCheck(checked.map((f) => f.path), { full: true });
    expect(Object.fromEntries(checked.map((f, i) => [f.path, verdicts[i]]))).toEqual(Object.fromEntries(checked.map((f) => [f.path, null])));
  });

  itWith(['torch'], 'the torch modules give the logits onnxruntime computes (every unquantized fixture)', async () => {
    const fixtures = DECODER_FIXTURES.filter((f) => !f.quantized);
    const expected = torchLogits(fixtures.map((fx) => ({ fx, ids: tokens(fx) })));
    for (const [k, fx] of fixtures.entries()) {
      const got = await withDecoder(fixtureBytes(fx), (d) => d.full(tokens(fx)));
      expect(got.dims, fx.name).toEqual(expected[k]!.dims);
      expect(relative(got.data, expected[k]!.data), fx.name).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});
