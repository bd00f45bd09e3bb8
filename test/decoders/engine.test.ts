/**
 * What the engine learned for decoders, on small hand-built graphs and against independent references: an RMSNorm
 * pruned to the kept features equals the same graph built from hand-sliced weights (onnxruntime runs both); the
 * KV-cache contract (only the named past/present pairs may shrink); rotate_half declines head_dim with its reason;
 * a fused attention whose key is not traced declines its heads; uniform heads and the genai_config update.
 */
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import type { Value } from '../../src/ir/value.js';
import { decodeModel } from '../../src/ir/load.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { centralityPrune } from '../../src/passes/centralityPrune.js';
import { parseLayerRatios } from '../../src/passes/policy/layerRatios.js';
import { pruneChannels } from '../../src/passes/pruneChannels.js';
import { updateGenaiConfig } from '../../cli/genaiConfig.js';
import { feedsFor, relativeError, Rng, runOrt } from '../support/index.js';
import { decoderFixture, fixtureBytes, readKeep } from './helpers.js';

const seeded = (n: number, seed: number) => {
  const r = new Rng(seed).next;
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};

/** Rows `rows` (or all) and columns `cols` (or all) of a row-major [r, c] matrix. */
function sliced(data: Float32Array, c: number, rows: number[] | null, cols: number[] | null): Float32Array {
  const r = data.length / c;
  const rr = rows ?? Array.from({ length: r }, (_, i) => i);
  const cc = cols ?? Array.from({ length: c }, (_, j) => j);
  return Float32Array.from(rr.flatMap((i) => cc.map((j) => data[i * c + j]!)));
}

describe('RMSNorm as TorchScript decomposes it', () => {
  /** x [1,3,8] → MatMul [8,h] → RMSNorm (Mul(x,x), ReduceMean, Add eps, Sqrt, Reciprocal, Mul, Mul g) → MatMul [h,5]. */
  function rmsModel(h: number, w1: Float32Array, g: Float32Array, w2: Float32Array, extraUse = false): Model {
    const b = new ModelBuilder(17, 1);
    const x = b.input('x', [1, 3, 8]);
    const y = b.op('MatMul', [x, b.weight('w1', [8, h], w1)], {}, { name: 'up' });
    const ms = b.op('ReduceMean', [b.op('Mul', [y, y])], { axes: [-1], keepdims: 1 }, { name: 'mean_square' });
    const r = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [ms, b.weight('eps', [], [1e-6])])])]);
    const n = b.op('Mul', [b.op('Mul', [y, r]), b.weight('g', [h], g)]);
    b.output(b.op('MatMul', [n, b.weight('w2', [h, 5], w2)], {}, { name: 'down' }));
    if (extraUse) b.output(b.op('Add', [ms, b.weight('one', [], [1])]));
    return b.build();
  }

  it('is pruned with its statistic over the kept features: equal to the graph built from hand-sliced weights', async () => {
    const [w1, g, w2] = [seeded(8 * 6, 1), seeded(6, 2).map((v) => 1 + v / 2), seeded(6 * 5, 3)];
    const model = rmsModel(6, w1, g, w2);
    const groups = analyze(model);
    const hidden = groups.find((x) => x.producers.some((n) => n.name === 'up'))!;
    expect(hidden.prunable, hidden.reason).toBe(true);
    const keep = [0, 2, 3, 5];
    pruneChannels(model, new Map([[hidden.id, keep]]));
    const reference = rmsModel(4, sliced(w1, 6, null, keep), Float32Array.from(keep, (k) => g[k]!), sliced(w2, 5, keep, null));
    const feeds = feedsFor(reference, { seed: 7 });
    const [got, want] = await Promise.all([runOrt(encodeModel(model), feeds), runOrt(encodeModel(reference), feeds)]);
    const out = reference.graph.outputs[0]!.name;
    expect(relativeError(got[model.graph.outputs[0]!.name]!, want[out]!)).toBeLessThanOrEqual(1e-6);
  });

  it('a mean of squares used for anything else is no statistic: declined where it reduces the channels', () => {
    const groups = analyze(rmsModel(6, seeded(48, 1), seeded(6, 2), seeded(30, 3), true));
    const hidden = groups.find((x) => x.producers.some((n) => n.name === 'up'))!;
    expect(hidden.prunable).toBe(false);
    expect(hidden.reason).toContain("ReduceMean 'mean_square': reduces over the channels (axis 2)");
  });
});

describe('the KV-cache contract', () => {
  /**
   * x [1,s,8] → k = MatMul [8, 2 heads · 4] → [1,2,s,4], Concat with the cache input `pastName` on the sequence →
   * ReduceSum over it → MatMul [8,3]; the concatenation is returned as `presentName` when given.
   */
  function cached(pastName: string, presentName?: string): Model {
    const b = new ModelBuilder(17, 2);
    const x = b.input('x', [1, 's', 8]);
    const past = b.input(pastName, [1, 2, 'past_sequence_length', 4]);
    const k = b.op('MatMul', [x, b.weight('wk', [8, 8])], {}, { name: 'k_proj' });
    const heads = b.op('Transpose', [b.op('Reshape', [k, b.int64('split', [0, 0, 2, 4])])], { perm: [0, 2, 1, 3] });
    const cat = b.node('Concat', [past, heads], { axis: 2 }, { name: 'cat' });
    if (presentName) cat.outputs[0]!.name = presentName;
    const summed = b.op('ReduceSum', [cat.output(0), b.int64('seq', [2])], { keepdims: 1 });
    b.output(b.op('MatMul', [b.op('Reshape', [summed, b.int64('flat', [1, 8])]), b.weight('wo', [8, 3])], {}, { name: 'o_proj' }));
    if (presentName) b.output(cat.output(0));
    return b.build();
  }

  const kGroup = (m: Model) => analyze(m).find((g) => g.producers.some((n) => n.name === 'k_proj'))!;

  it('a named past/present pair shrinks with its heads: declared shapes rewritten, the model runs on the smaller cache', async () => {
    const model = cached('past_key_values.0.key', 'present.0.key');
    const g = kGroup(model);
    expect(g.prunable, g.reason).toBe(true);
    expect(g.channels).toBe(2);
    pruneChannels(model, new Map([[g.id, [1]]]));
    expect(model.graph.inputs.find((v) => v.name === 'past_key_values.0.key')!.shape).toEqual([1, 1, 'past_sequence_length', 4]);
    expect(model.graph.outputs.find((v) => v.name === 'present.0.key')!.shape).toEqual([1, 1, null, 4]);
    const feeds = feedsFor(model, { seed: 3, dims: { x: [1, 2, 8], 'past_key_values.0.key': [1, 1, 3, 4] } });
    const out = await runOrt(encodeModel(model), feeds);
    expect(out['present.0.key']!.dims).toEqual([1, 1, 5, 4]);
  });

  it('a cache input whose present output is missing is declined, naming it', () => {
    const g = kGroup(cached('past_key_values.0.key'));
    expect(g.prunable).toBe(false);
    expect(g.reason).toContain("the cache input 'past_key_values.0.key' has no output 'present.0.key'");
  });

  it('any other graph input stays the model\'s interface: declined where it meets the channels', () => {
    const g = kGroup(cached('cache_0', 'cache_out_0'));
    expect(g.prunable).toBe(false);
    expect(g.reason).toContain("Concat 'cat': input 0 ('cache_0') carries these channels but is not a constant");
  });
});

describe('heads and rotary embeddings', () => {
  it('head_dim under a rotary embedding (rotate_half) is declined with the reason; whole heads would leave it untouched', () => {
    // One head: the q projection's 16 features land on head_dim, which rotate_half takes apart.
    const b = new ModelBuilder(17, 3);
    const x = b.input('x', [1, 4, 8]);
    const q = b.op('Transpose', [b.op('Reshape', [b.op('MatMul', [x, b.weight('wq', [8, 16])], {}, { name: 'q_proj' }), b.int64('heads', [1, 4, 1, 16])])], { perm: [0, 2, 1, 3] });
    const half = (from: number, to: number) => b.op('Slice', [q, b.int64(`s${from}`, [from]), b.int64(`e${from}`, [to]), b.int64(`a${from}`, [3])]);
    const rotated = b.op('Concat', [b.op('Neg', [half(8, 16)]), half(0, 8)], { axis: -1 }, { name: 'rotate_half' });
    const roped = b.op('Add', [b.op('Mul', [q, b.weight('cos', [4, 16])]), b.op('Mul', [rotated, b.weight('sin', [4, 16])])]);
    const merged = b.op('Reshape', [b.op('Transpose', [roped], { perm: [0, 2, 1, 3] }), b.int64('merge', [1, 4, 16])]);
    b.output(b.op('MatMul', [merged, b.weight('wo', [16, 8])], {}, { name: 'o_proj' }));
    const g = analyze(b.build()).find((x) => x.producers.some((n) => n.name === 'q_proj'))!;
    expect(g.prunable).toBe(false);
    expect(g.reason).toContain("Concat 'rotate_half': rotary embedding inside a head (rotate_half): pruning head_dim would have to drop matched frequency pairs in Q and K and change the 1/√d scale");
  });

  it('GroupQueryAttention whose key is not traced declines its heads (a KV head count that cannot follow)', () => {
    const b = new ModelBuilder(17, 4);
    const x = b.input('x', [1, 3, 8]);
    const key: Value = b.input('k', [1, 3, 8]);
    const q = b.op('MatMul', [x, b.weight('wq', [8, 16])], {}, { name: 'q_proj' });
    const v = b.op('MatMul', [x, b.weight('wv', [8, 8])], {}, { name: 'v_proj' });
    const seqlens = b.input('seqlens_k', [1], DataType.INT32);
    const total = b.input('total_sequence_length', [], DataType.INT32);
    const gqa = b.op('GroupQueryAttention', [q, key, v, null, null, seqlens, total], { num_heads: 4, kv_num_heads: 2 }, { name: 'gqa', domain: 'com.microsoft', outputs: 3 });
    b.output(b.op('MatMul', [gqa, b.weight('wo', [16, 8])], {}, { name: 'o_proj' }));
    const groups = analyze(b.build());
    for (const name of ['q_proj', 'v_proj']) {
      const g = groups.find((x) => x.producers.some((n) => n.name === name))!;
      expect(g.prunable, name).toBe(false);
      expect(g.reason, name).toContain("GroupQueryAttention 'gqa': input 1 ('k') is not traced, so its heads cannot follow");
    }
  });
});

describe('uniform heads', () => {
  const fx = decoderFixture('llama_cache');
  const ratios = parseLayerRatios({ '/\\/layers\\.0\\//': 0.5 }).ratios;
  const kvKept = async (uniformHeads?: boolean) => {
    const original = fixtureBytes(fx);
    const model = decodeModel(original);
    const report = await centralityPrune(model, { ratio: 0, layerRatios: ratios, ...(uniformHeads === undefined ? {} : { uniformHeads }) });
    return { kv: readKeep(fx, original, encodeModel(model)).layers.map((l) => l.kvHeads.length), report };
  };

  it('on by default with a cache: layers given different ratios still remove the same number of KV groups', async () => {
    const { kv, report } = await kvKept();
    expect(kv).toEqual([1, 1]);
    expect(report.decoder?.uniformHeads).toBe(true);
    expect(report.decoder?.sizes.numKeyValueHeads).toEqual({ before: 2, after: 1 });
    expect(report.decoder?.cache.map((c) => c.key)).toEqual([0, 1].map(() => ['batch_size', 1, 'past_sequence_length', 16]));
  });

  it('--no-uniform-heads lets each layer keep its own count, and the report says no single value holds', async () => {
    const { kv, report } = await kvKept(false);
    expect(kv).toEqual([1, 2]);
    expect(report.options.uniformHeads).toBe(false);
    expect(report.decoder?.sizes.numKeyValueHeads).toBeUndefined();
    expect(report.decoder?.notes.join('\n')).toMatch(/num_key_value_heads differs between layers/);
  });
});

describe('genai_config.json', () => {
  const decoder = {
    uniformHeads: true, cache: [], notes: [],
    sizes: { numAttentionHeads: { before: 8, after: 4 }, numKeyValueHeads: { before: 2, after: 1 }, hiddenSize: { before: 64, after: 32 }, intermediateSize: { before: 96, after: 48 } },
  };

  it('sets the sizes the config has and names the ones it lacks (onnxruntime-genai refuses unknown keys)', () => {
    const input = { model: { type: 'llama', decoder: { num_attention_heads: 8, num_key_value_heads: 2, hidden_size: 64, head_size: 16 } }, search: { max_length: 64 } };
    const { config, set, missing } = updateGenaiConfig(input, decoder);
    expect(config).toEqual({ model: { type: 'llama', decoder: { num_attention_heads: 4, num_key_value_heads: 1, hidden_size: 32, head_size: 16 } }, search: { max_length: 64 } });
    expect(set).toEqual(['num_attention_heads', 'num_key_value_heads', 'hidden_size']);
    expect(missing).toEqual(['intermediate_size']);
    expect(input.model.decoder.num_attention_heads).toBe(8);
  });
});
