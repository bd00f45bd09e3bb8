/**
 * Issue 11's "Done when", asserted on every decoder fixture (plain and fused) against the oracles of helpers.ts:
 * FFN neurons alone, then heads (KV groups), FFN neurons and the hidden size together through the KV cache, GQA
 * grouping and rounding, uniform heads, fused-op attributes, per-token MACs and the CLI around decoders. What the
 * engine learned for each is in fixtures/decoders/README.md.
 */
import { join } from 'node:path';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel } from '../../src/ir/save.js';
import { modelStats } from '../../src/ir/stats.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import type { ChannelGroup } from '../../src/passes/dependency/groups.js';
import { centralityPrune, type CentralityPruneOptions, type PruneReport } from '../../src/passes/centralityPrune.js';
import { pruneChannels } from '../../src/passes/pruneChannels.js';
import { randomKeep as randomGroupKeep } from '../dependency/helpers/prune.js';
import { alsoWith, onnxCheck, runCli, withTempDir } from '../support/index.js';
import {
  cacheConsistency, DECODER_FIXTURES, decoderFixture, fixtureBytes, maskedOriginal, queryHeadsOf, readKeep, relative,
  removedKinds, tokens, torchLogits, TOLERANCE, withDecoder, type DecoderFixture, type FullKeep,
} from './helpers.js';

const GQA = DECODER_FIXTURES.filter((f) => f.config.kvHeads[0]! < f.config.heads[0]!);

async function pruned(bytes: Uint8Array, opts: Partial<CentralityPruneOptions>): Promise<{ bytes: Uint8Array; report: PruneReport }> {
  const model = decodeModel(bytes);
  const report = await centralityPrune(model, opts);
  return { bytes: encodeModel(model), report };
}

const scopeAll = new Map<string, Promise<{ bytes: Uint8Array; keep: FullKeep }>>();

/** `prune --scope all --ratio 0.5` on a fixture and the keep lists it realizes, computed once per fixture. */
function prunedAll(fx: DecoderFixture): Promise<{ bytes: Uint8Array; keep: FullKeep }> {
  let p = scopeAll.get(fx.name);
  if (!p) {
    const original = fixtureBytes(fx);
    p = pruned(original, { scope: 'all', ratio: 0.5, pruneResidual: true }).then(({ bytes }) => ({ bytes, keep: readKeep(fx, original, bytes) }));
    scopeAll.set(fx.name, p);
  }
  return p;
}

/** Nodes of one layer's attention projections and FFN producers, by the fixture's layout. */
function layerNodes(fx: DecoderFixture, i: number): { attention: string[]; ffn: string[] } {
  const l = fx.layout.layers[i]!;
  return {
    attention: [l.q, l.k, l.v, l.qkv].flatMap((r) => (r ? [r.node] : [])),
    ffn: [l.gate, l.up].flatMap((r) => (r && !r.quantized ? [r.node] : [])),
  };
}

const producerNames = (g: ChannelGroup) => g.producers.map((n) => n.name);

/** The residual stream's group: the one the token embedding's Gather feeds. */
function residualGroup(fx: DecoderFixture, groups: readonly ChannelGroup[]): ChannelGroup | undefined {
  return groups.find((g) => g.sources.some((n) => n.name === fx.layout.embed.node));
}

// ---------------------------------------------------------------------------------------------------------------
// FFN neurons of the plain Llama / Qwen2 exports, through every oracle
// ---------------------------------------------------------------------------------------------------------------

describe('FFN neurons of plain Llama / Qwen2 exports', () => {
  const fixtures = DECODER_FIXTURES.filter((f) => f.kind === 'plain' && f.family !== 'gpt2');
  // The residual stream is produced by every block's down projection too: /mlp\/(gate|up)_proj/ selects the FFN alone.
  it.each(fixtures)('$name: --layers /mlp\/(gate|up)_proj/ --ratio 0.3 removes neurons only; cache, masking, torch and checker agree', async (fx) => {
    const original = fixtureBytes(fx);
    const { bytes } = await pruned(original, { ratio: 0.3, layers: ['/\\/mlp\\/(gate|up)_proj/'] });
    const keep = readKeep(fx, original, bytes);
    expect(removedKinds(fx, keep)).toEqual({ hidden: false, heads: false, kvHeads: false, ffn: true });
    keep.layers.forEach((l, i) => expect(l.ffn.length, `layer ${i}`).toBe(fx.config.ffn[i]! - Math.floor(0.3 * fx.config.ffn[i]!)));
    const ids = tokens(fx);
    const [got, masked] = await Promise.all([withDecoder(bytes, (d) => d.full(ids)), withDecoder(maskedOriginal(fx, original, keep), (d) => d.full(ids))]);
    expect(relative(got.data, masked.data), 'pruned vs masked original').toBeLessThanOrEqual(TOLERANCE);
    alsoWith(['torch'], () => expect(relative(got.data, torchLogits([{ fx, ids, keep }])[0]!.data), 'pruned vs torch').toBeLessThanOrEqual(TOLERANCE));
    if (fx.cache) expect((await cacheConsistency(bytes, ids)).error, 'cache consistency').toBeLessThanOrEqual(TOLERANCE);
    alsoWith(['onnx'], () => expect(onnxCheck([bytes], { full: true }), 'python3-onnx full checker').toEqual([null]));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Issue 11 "Done when", on every fixture
// ---------------------------------------------------------------------------------------------------------------

describe('issue 11 on every decoder fixture', () => {
  for (const fx of DECODER_FIXTURES) {
    describe(fx.name, () => {
      it(`inspect --groups declines nothing but the LM head${fx.quantized ? ' and the MatMulNBits layers (with the reason)' : ''}`, () => {
        const groups = analyze(decodeModel(fixtureBytes(fx)));
        const declined = groups.filter((g) => !g.prunable);
        const allowed = (g: ChannelGroup) => producerNames(g).includes(fx.layout.lmHead.node) || (fx.quantized && /MatMulNBits/.test(g.reason ?? ''));
        expect(declined.filter((g) => !allowed(g)).map((g) => `#${g.id} ${g.reason}`)).toEqual([]);
        if (fx.quantized) expect(declined.some((g) => /MatMulNBits/.test(g.reason ?? '')), 'a MatMulNBits layer is declined with its name').toBe(true);
        for (let i = 0; i < fx.config.layers; i++) {
          const { attention, ffn } = layerNodes(fx, i);
          expect(groups.some((g) => g.prunable && producerNames(g).some((n) => attention.includes(n))), `layer ${i} heads`).toBe(true);
          if (ffn.length) expect(groups.some((g) => g.prunable && producerNames(g).some((n) => ffn.includes(n))), `layer ${i} FFN`).toBe(true);
        }
        if (!fx.quantized) expect(residualGroup(fx, groups)?.prunable, 'hidden size').toBe(true);
      });

      it('prune --scope all --ratio 0.5 removes heads (KV groups), FFN neurons and hidden channels; logits equal the torch reference', async () => {
        const { bytes, keep } = await prunedAll(fx);
        expect(removedKinds(fx, keep)).toEqual({ hidden: !fx.quantized, heads: true, kvHeads: true, ffn: true });
        const ids = tokens(fx);
        const got = await withDecoder(bytes, (d) => d.full(ids));
        expect(got.dims).toEqual([2, 7, fx.config.vocab]);
        if (!fx.quantized) alsoWith(['torch'], () => expect(relative(got.data, torchLogits([{ fx, ids, keep }])[0]!.data)).toBeLessThanOrEqual(TOLERANCE));
        if (fx.checker === 'python3-onnx') alsoWith(['onnx'], () => expect(onnxCheck([bytes], { full: true }), 'python3-onnx full checker').toEqual([null]));
      });

      it('removing heads (KV groups) and FFN neurons equals masking them in the original', async () => {
        const original = fixtureBytes(fx);
        const model = decodeModel(original);
        const groups = analyze(model);
        const residual = residualGroup(fx, groups);
        const keepMap = randomGroupKeep(groups.filter((g) => g !== residual), 0.5, 17);
        pruneChannels(model, keepMap);
        const bytes = encodeModel(model);
        const keep = readKeep(fx, original, bytes);
        const kinds = removedKinds(fx, keep);
        expect(kinds.hidden).toBe(false);
        expect(kinds.heads && kinds.ffn).toBe(true);
        const ids = tokens(fx);
        const [got, masked] = await Promise.all([withDecoder(bytes, (d) => d.full(ids)), withDecoder(maskedOriginal(fx, original, keep), (d) => d.full(ids))]);
        expect(relative(got.data, masked.data)).toBeLessThanOrEqual(TOLERANCE);
      });

      if (fx.cache) {
        it('the pruned model decodes through its own, smaller cache: declared cache shapes rewritten, prefill + steps = one pass', async () => {
          const { bytes, keep } = await prunedAll(fx);
          expect(removedKinds(fx, keep).kvHeads, 'KV heads removed, so the cache shrinks').toBe(true);
          const m = decodeModel(bytes);
          keep.layers.forEach((l, i) => {
            for (const kind of ['key', 'value']) {
              expect(m.graph.inputs.find((v) => v.name === `past_key_values.${i}.${kind}`)?.shape).toEqual(['batch_size', l.kvHeads.length, 'past_sequence_length', fx.config.headDim]);
              expect(m.graph.outputs.find((v) => v.name === `present.${i}.${kind}`)?.shape).toEqual(['batch_size', l.kvHeads.length, 'total_sequence_length', fx.config.headDim]);
            }
          });
          const { error, cacheShapes } = await cacheConsistency(bytes, tokens(fx));
          expect(error).toBeLessThanOrEqual(TOLERANCE);
          expect(cacheShapes).toEqual(keep.layers.flatMap((l) => [[2, l.kvHeads.length, 7, fx.config.headDim], [2, l.kvHeads.length, 7, fx.config.headDim]]));
        });

        it('uniform heads (default with a cache): every layer keeps the same number of query and KV heads', async () => {
          const { keep } = await prunedAll(fx);
          expect(new Set(keep.layers.map((l) => `${l.heads.length}/${l.kvHeads.length}`)).size).toBe(1);
          expect(keep.layers[0]!.heads.length).toBeLessThan(fx.config.heads[0]!);
        });
      }

      if (fx.kind === 'fused') {
        it('fused attention attributes follow the kept heads (num_heads, kv_num_heads, q_num_heads, qkv_hidden_sizes)', async () => {
          const { bytes, keep } = await prunedAll(fx);
          expect(removedKinds(fx, keep).heads, 'heads removed').toBe(true);
          const m = decodeModel(bytes);
          keep.layers.forEach((l, i) => {
            for (const n of m.graph.nodes.filter((x) => x.name.startsWith(`/model/layers.${i}/attn/`))) {
              const rotaryOnK = n.opType === 'RotaryEmbedding' && n.name.includes('/k_rotary/');
              if (n.attr('num_heads')) expect(n.getInt('num_heads'), n.name).toBe(rotaryOnK ? l.kvHeads.length : l.heads.length);
              if (n.attr('q_num_heads')) expect(n.getInt('q_num_heads'), n.name).toBe(l.heads.length);
              if (n.attr('kv_num_heads')) expect(n.getInt('kv_num_heads'), n.name).toBe(l.kvHeads.length);
              if (n.attr('qkv_hidden_sizes')) expect(n.getInts('qkv_hidden_sizes'), n.name).toEqual([l.heads.length, l.kvHeads.length, l.kvHeads.length].map((h) => h * fx.config.headDim));
            }
          });
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Grouped-query attention
// ---------------------------------------------------------------------------------------------------------------

describe('grouped-query attention', () => {
  for (const fx of GQA) {
    it(`${fx.name}: removing one KV group removes exactly its query heads`, async () => {
      const original = fixtureBytes(fx);
      const model = decodeModel(original);
      const groups = analyze(model);
      const { attention } = layerNodes(fx, 0);
      const g = groups.find((x) => x.prunable && producerNames(x).some((n) => attention.includes(n)));
      expect(g?.channels, 'the units of a GQA attention group are its KV groups').toBe(fx.config.kvHeads[0]);
      pruneChannels(model, new Map([[g!.id, [1]]]));
      const bytes = encodeModel(model);
      const keep = readKeep(fx, original, bytes);
      expect(keep.layers[0]).toEqual({ heads: queryHeadsOf(fx.config, 0, [1]), kvHeads: [1], ffn: keep.layers[0]!.ffn });
      expect(keep.layers[0]!.ffn).toHaveLength(fx.config.ffn[0]!);
      const ids = tokens(fx);
      const [got, masked] = await Promise.all([withDecoder(bytes, (d) => d.full(ids)), withDecoder(maskedOriginal(fx, original, keep), (d) => d.full(ids))]);
      expect(relative(got.data, masked.data)).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it('a ratio that would leave a fractional KV group rounds to whole groups and says so', async () => {
    const fx = decoderFixture('llama_cache');
    const original = fixtureBytes(fx);
    // 0.6 of 8 query heads is 4.8 heads: 1.2 groups of 4.
    const { bytes, report } = await pruned(original, { scope: 'dense', ratio: 0.6 });
    const keep = readKeep(fx, original, bytes);
    keep.layers.forEach((l, i) => {
      expect(l.heads, `layer ${i}`).toEqual(queryHeadsOf(fx.config, i, l.kvHeads));
      expect(l.kvHeads.length, `layer ${i}`).toBe(1);
    });
    const attentionGroups = report.groups.filter((g) => g.producers.some((p) => layerNodes(fx, 0).attention.includes(p) || layerNodes(fx, 1).attention.includes(p)));
    expect(attentionGroups.length).toBeGreaterThan(0);
    for (const g of attentionGroups) expect(g.note ?? '', `group ${g.id}`).toMatch(/whole (KV )?group|round/i);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The CLI around decoders
// ---------------------------------------------------------------------------------------------------------------

describe('decoder CLI', () => {
  it('inspect --groups --json on llama_cache lists no declined group but the LM head', () => {
    const fx = decoderFixture('llama_cache');
    const r = runCli(['inspect', '--groups', '--json', fx.path]);
    expect(r.code).toBe(0);
    const groups = (JSON.parse(r.stdout) as { groups: { producers: string[]; prunable: boolean; reason?: string }[] }).groups;
    expect(groups.filter((g) => !g.prunable).map((g) => g.producers)).toEqual([[fx.layout.lmHead.node]]);
  });

  it('inspect counts MACs per token on a decoder (sequence 1, past 0, flagged as assumed)', () => {
    const fx = decoderFixture('llama_cache');
    const stats = modelStats(decodeModel(fixtureBytes(fx)));
    const weights = fx.layout.layers.flatMap((l) => Object.values(l)).concat(fx.layout.lmHead).reduce((n, r) => n + r!.shape[0]! * r!.shape[1]!, 0);
    expect(stats.macsUnknown).toEqual([]);
    expect(stats.macs).toBeGreaterThanOrEqual(weights);
    expect(stats.macs).toBeLessThanOrEqual(weights + 2 * fx.config.layers * fx.config.heads[0]! * fx.config.headDim);
  });

  it('prune writes genai_config.json beside the output with the new head counts and sizes', () => {
    const fx = decoderFixture('llama_gqa_cache');
    withTempDir('genai', (dir) => {
      copyFileSync(fx.path, join(dir, 'model.onnx'));
      mkdirSync(join(dir, 'out'));
      const cfg = fx.config;
      writeFileSync(join(dir, 'genai_config.json'), JSON.stringify({ model: { type: 'llama', decoder: { num_attention_heads: cfg.heads[0], num_key_value_heads: cfg.kvHeads[0], hidden_size: cfg.hidden, head_size: cfg.headDim, num_hidden_layers: cfg.layers }, vocab_size: cfg.vocab } }));
      const r = runCli([join(dir, 'model.onnx'), '-o', join(dir, 'out', 'model.onnx'), '--scope', 'all', '--ratio', '0.5', '--prune-residual', '-q']);
      expect(r.code, r.stderr).toBe(0);
      const written = join(dir, 'out', 'genai_config.json');
      expect(existsSync(written)).toBe(true);
      const keep = readKeep(fx, fixtureBytes(fx), new Uint8Array(readFileSync(join(dir, 'out', 'model.onnx'))));
      const decoder = (JSON.parse(readFileSync(written, 'utf8')) as { model: { decoder: Record<string, number> } }).model.decoder;
      expect(decoder).toMatchObject({ num_attention_heads: keep.layers[0]!.heads.length, num_key_value_heads: keep.layers[0]!.kvHeads.length, hidden_size: keep.hidden.length, head_size: cfg.headDim });
    });
  });

  it('the updated genai_config.json is an output like the others: checked before any work, written with the model or not at all', () => {
    const fx = decoderFixture('llama_gqa_cache');
    withTempDir('genai-out', (dir) => {
      copyFileSync(fx.path, join(dir, 'model.onnx'));
      writeFileSync(join(dir, 'genai_config.json'), JSON.stringify({ model: { decoder: { num_attention_heads: fx.config.heads[0] } } }));
      const out = join(dir, 'out');
      mkdirSync(out);
      const args = [join(dir, 'model.onnx'), '-o', join(out, 'model.onnx'), '--scope', 'all', '--ratio', '0.5', '-q'];
      // Another output onto it: refused before any work.
      let r = runCli([...args, '--report', join(out, 'genai_config.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^onnx-cprune: the updated genai_config\.json and the report are the same file '.*'\n$/);
      // A directory in its place: refused before any work, nothing written.
      mkdirSync(join(out, 'genai_config.json'));
      r = runCli([...args, '--report', join(out, 'r.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^onnx-cprune: cannot write the updated genai_config\.json '.*': it is a directory\n$/);
      expect(readdirSync(out)).toEqual(['genai_config.json']);
    });
  });
});
