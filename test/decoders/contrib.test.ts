/**
 * The fused transformer ops (src/ir/shapes/contrib.ts and stats.ts) against independent references: shape inference
 * against the shapes onnxruntime really produces (every node output of every fused fixture exposed, a 2-token past
 * and 3 new tokens, so caches grow), and MACs per token of each fused graph against its plain twin, whose MatMuls
 * the plain counting sees one by one.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { decodeModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import { modelStats } from '../../src/ir/stats.js';
import { compareWithRuntime } from '../shapes/runtimeOracle.js';
import { Rng } from '../support/index.js';
import { DECODER_FIXTURES, decoderFixture, fixtureBytes } from './helpers.js';

const FUSED = DECODER_FIXTURES.filter((f) => f.kind === 'fused');
const [BATCH, PAST, SEQ] = [1, 2, 3];

/**
 * Every float node output of `model` as onnxruntime computes it for a decoder step: batch 1 (GroupQueryAttention
 * takes a past with several new tokens only then), past 2, 3 new tokens. (Integer shape arithmetic is left out:
 * onnxruntime-node 1.29 crashes when the Range of gpt2_attention's positions is also a graph output.)
 */
async function decoderRuntimeDims(model: Model): Promise<Map<string, readonly number[]>> {
  const copy = decodeModel(encodeModel(model));
  for (const node of copy.graph.nodes) {
    for (const v of node.outputs) {
      const inferred = v && model.graph.find(v.name)?.elemType;
      if (!v || v.isGraphOutput() || inferred !== DataType.FLOAT) continue;
      v.elemType = inferred;
      v.shape = undefined;
      copy.graph.outputs.push(v);
    }
  }
  const r = new Rng(5).next;
  const int64 = (dims: number[], f: (i: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => BigInt(f(i))), dims);
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of copy.graph.inputs) {
    if (v.name === 'input_ids') feeds[v.name] = int64([BATCH, SEQ], () => Math.floor(r() * 100));
    else if (v.name === 'attention_mask') feeds[v.name] = int64([BATCH, PAST + SEQ], () => 1);
    else if (v.name === 'position_ids') feeds[v.name] = int64([BATCH, SEQ], (i) => PAST + (i % SEQ));
    else if (v.name.startsWith('past_key_values.')) {
      const [, kv, , hd] = v.shape as number[];
      const dims = [BATCH, kv!, PAST, hd!];
      feeds[v.name] = new ort.Tensor('float32', Float32Array.from({ length: BATCH * kv! * PAST * hd! }, () => r() - 0.5), dims);
    } else throw new Error(`input ${v.name}`);
  }
  const session = await ort.InferenceSession.create(encodeModel(copy), { logSeverityLevel: 3 });
  try {
    const out = await session.run(feeds);
    return new Map(Object.entries(out).map(([name, t]) => [name, t.dims]));
  } finally {
    await session.release();
  }
}

describe('fused ops: shape inference against onnxruntime', () => {
  it.each(FUSED.map((f) => [f.name, f] as const))('%s: every node output has the rank and known dims onnxruntime gives it', async (_, fx) => {
    const model = decodeModel(fixtureBytes(fx));
    inferShapes(model);
    const fused = model.graph.nodes.filter((n) => n.domain === 'com.microsoft' || ['Attention', 'RotaryEmbedding', 'RMSNormalization', 'SimplifiedLayerNormalization'].includes(n.opType));
    expect(fused.length).toBeGreaterThan(0);
    for (const n of fused) for (const v of n.outputs) if (v) expect(v.shape, `${n.opType} '${n.name}' output '${v.name}'`).toBeDefined();
    const { known, wrong } = compareWithRuntime(model, await decoderRuntimeDims(model));
    expect(wrong).toEqual([]);
    expect(known).toBeGreaterThan(20);
  });
});

describe('fused ops: MACs per token', () => {
  const cases: [string, string, number][] = [
    ['gpt2_attention', 'gpt2', 0], ['gpt2_mha_cache', 'gpt2_cache', 0], ['llama_gqa_cache', 'llama_cache', 0],
    ['llama_onnx23_cache', 'llama_cache', 0], ['llama_nbits_cache', 'llama_cache', 0],
    // The plain Qwen2 export computes its rotary angles with a MatMul (inv_freq [8, 1] times the position): 8 MACs.
    ['qwen2_rotary_cache', 'qwen2_cache', 8],
  ];
  it.each(cases)('%s counts what its plain twin %s counts (projections, attention, MatMulNBits as its float MatMul)', (fused, plain, extra) => {
    const a = modelStats(decodeModel(fixtureBytes(decoderFixture(fused))));
    const b = modelStats(decodeModel(fixtureBytes(decoderFixture(plain))));
    expect(a.macsUnknown).toEqual([]);
    expect(a.macsPerToken && b.macsPerToken).toBe(true);
    expect(a.macs + extra).toBe(b.macs);
  });

  it('a model whose lengths are all known is not counted per token', () => {
    const m = decodeModel(fixtureBytes(decoderFixture('llama_cache')));
    for (const v of m.graph.inputs) if (v.shape) v.shape = v.shape.map((d) => (typeof d === 'string' ? (d === 'past_sequence_length' ? 0 : 1) : d));
    const s = modelStats(m);
    expect(s.macsPerToken).toBe(false);
    expect(s.macs).toBe(modelStats(decodeModel(fixtureBytes(decoderFixture('llama_cache')))).macs);
  });
});
