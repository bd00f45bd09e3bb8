import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { constantSource } from '../../src/ir/constants.js';
import { DataType } from '../../src/ir/dtype.js';
import { loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Value } from '../../src/ir/value.js';
import { evaluateModel } from '../../src/runtime/evaluate.js';
import { initTrainingBackend } from '../../src/train/backend.js';
import { Executor } from '../../src/train/executor.js';
import { readTokenWindows } from '../../src/train/lmData.js';
import { finetuneLm, nextTokenLosses } from '../../src/train/lmFinetune.js';
import { planLmTraining, type LmTrainMode } from '../../src/train/lmPlan.js';
import { replaceStoredTensor, storedDataType } from '../../src/train/writeBack.js';
import { FIXTURES, fixturePath, ort, runCli, runOrt, tempDir, writeNpy, type Feeds } from '../support/index.js';

/**
 * Fine-tuning decoder LMs (`finetune --objective lm`): the executor's logits against onnxruntime on every decoder
 * fixture fed as `evaluate` feeds them, its next-token loss against evaluate's NLL, its weight gradients against
 * central finite differences of onnxruntime's loss, the trainable sets, and the whole CLI run on a pruned lm_kjv.
 */
const TRAINED = join(FIXTURES, 'trained');
const DECODERS = join(FIXTURES, 'decoders');
const dir = tempDir('lm-finetune');

const DECODER_FILES = [
  join(TRAINED, 'lm_kjv.onnx'), join(TRAINED, 'lm_kjv_cache.onnx'),
  ...['llama', 'llama_cache', 'gpt2', 'gpt2_cache', 'qwen2', 'qwen2_cache'].map((n) => join(DECODERS, `${n}.onnx`)),
];

/** Seeded token ids below `vocab`, [rows, window]. */
function tokenIds(rows: number, window: number, vocab: number, seed: number): Int32Array {
  return Int32Array.from({ length: rows * window }, (_, i) => (i * 37 + seed * 101 + ((i * i) % 13)) % vocab);
}

function writeWindows(name: string, ids: Int32Array, window: number): string {
  const path = join(dir, name);
  writeNpy(path, BigInt64Array.from(ids, (v) => BigInt(v)), [ids.length / window, window]);
  return path;
}

/** The evaluate contract written out by hand: ids, a mask of ones, positions 0..T−1, empty float32 caches. */
function ortFeeds(model: Model, ids: Int32Array, rows: number, window: number): Feeds {
  const feeds: Feeds = {};
  const int64 = (f: (i: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: rows * window }, (_, i) => BigInt(f(i))), [rows, window]);
  for (const v of model.graph.inputs) {
    if (v.name === 'input_ids') feeds[v.name] = int64((i) => ids[i]!);
    else if (v.name === 'attention_mask') feeds[v.name] = int64(() => 1);
    else if (v.name === 'position_ids') feeds[v.name] = int64((i) => i % window);
    else if (v.name.startsWith('past')) feeds[v.name] = new ort.Tensor('float32', new Float32Array(0), [rows, v.shape![1] as number, 0, v.shape![3] as number]);
    else throw new Error(`unexpected input ${v.name}`);
  }
  return feeds;
}

/** Mean next-token NLL of [rows, window, vocab] logits in float64 (what evaluate computes). */
function meanNll(logits: Float32Array, ids: Int32Array, rows: number, window: number, vocab: number): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    for (let t = 1; t < window; t++) {
      const base = (r * window + t - 1) * vocab;
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]!);
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(logits[base + v]! - max);
      total += max + Math.log(sum) - logits[base + ids[r * window + t]!]!;
    }
  }
  return total / (rows * (window - 1));
}

function vocabOf(model: Model): number {
  return model.graph.outputs[0]!.shape!.at(-1) as number;
}

describe('decoder LMs on the tfjs executor (wasm)', () => {
  beforeAll(async () => { await initTrainingBackend('wasm'); });

  it.each(DECODER_FILES.map((f) => [f.split('/').slice(-2).join('/'), f]))('%s: logits equal onnxruntime\'s within 1e-4', async (_name, path) => {
    const model = loadModel(path);
    const rows = 2;
    const window = 24;
    const ids = tokenIds(rows, window, vocabOf(model), 1);
    const want = (await runOrt(path, ortFeeds(model, ids, rows, window)))[model.graph.outputs[0]!.name]!;
    const windows = await readTokenWindows(model, writeWindows(`fwd-${path.split('/').pop()}.npy`, ids, window));
    const exec = new Executor(model);
    const feeds = windows.feeds([0, 1]);
    try {
      const [got] = exec.run(feeds, [model.graph.outputs.find((v) => v.name === 'logits')!]);
      expect(got!.shape).toEqual(want.dims);
      const g = got!.dataSync();
      const w = want.data as Float32Array;
      let err = 0;
      let scale = 0;
      for (let i = 0; i < w.length; i++) {
        err = Math.max(err, Math.abs(g[i]! - w[i]!));
        scale = Math.max(scale, Math.abs(w[i]!));
      }
      expect(err / scale).toBeLessThan(1e-4);
      got!.dispose();
    } finally {
      tf.dispose([...feeds.values()]);
      exec.dispose();
    }
  });

  it('the training loss is evaluate\'s mean NLL on the same windows (lm_kjv, 6 held-out windows)', async () => {
    const path = join(TRAINED, 'lm_kjv.onnx');
    const model = loadModel(path);
    const sample = join(TRAINED, 'lm_kjv_eval64.npy');
    const windows = await readTokenWindows(model, sample, { limit: 6, seed: 3 });
    const subset = writeWindows('nll6.npy', windows.ids, windows.window);
    const want = (await evaluateModel(path, subset, { ep: 'cpu' })).perplexity!.nll;
    const exec = new Executor(model);
    try {
      const rows = [0, 1, 2, 3, 4, 5];
      const feeds = windows.feeds(rows);
      const got = tf.tidy(() => {
        const [logits] = exec.run(feeds, [model.graph.outputs[0]!]);
        return tf.mean(nextTokenLosses(logits!, tf.tensor(windows.ids, [6, windows.window], 'int32'))).dataSync()[0]!;
      });
      tf.dispose([...feeds.values()]);
      expect(Math.abs(got - want) / want).toBeLessThan(1e-5);
    } finally {
      exec.dispose();
    }
  });

  /**
   * dL/dw of the executor (wasm, with its custom gather and matmul gradients) against central differences of the
   * loss onnxruntime computes, at the element of each trained tensor with the largest gradient.
   */
  it.each(['llama', 'gpt2'])('%s: weight gradients equal finite differences of onnxruntime\'s loss', async (name) => {
    const path = join(DECODERS, `${name}.onnx`);
    const model = loadModel(path);
    const vocab = vocabOf(model);
    const rows = 2;
    const window = 12;
    const ids = tokenIds(rows, window, vocab, 5);
    const windows = await readTokenWindows(model, writeWindows(`grad-${name}.npy`, ids, window));
    const trainable = planLmTraining(model, 'all');
    const exec = new Executor(model, { trainable: (v) => trainable.has(v) });
    const entries = [...exec.variables.entries()];
    const feeds = windows.feeds([0, 1]);
    const { value, grads } = tf.variableGrads(() => {
      const [logits] = exec.run(feeds, [model.graph.outputs[0]!]);
      return tf.mean(nextTokenLosses(logits!, tf.tensor(ids, [rows, window], 'int32'))) as tf.Scalar;
    }, entries.map(([, v]) => v));
    const analytic = new Map(entries.map(([stored, v]) => [stored, grads[v.name]!.dataSync() as Float32Array]));
    tf.dispose([value, ...Object.values(grads), ...feeds.values()]);
    exec.dispose();

    const feedsOrt = ortFeeds(model, ids, rows, window);
    const ortLoss = async (): Promise<number> => meanNll((await runOrt(model, feedsOrt))[model.graph.outputs[0]!.name]!.data as Float32Array, ids, rows, window, vocab);
    const eps = 1e-2;
    // Every few tensors (embedding, norms, projections, the LM head): enough to cover each kind of path.
    const checked = [...analytic.entries()].filter((_, i) => i % 3 === 0);
    expect(checked.length).toBeGreaterThan(4);
    for (const [stored, g] of checked) {
      let at = 0;
      for (let i = 0; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[at]!)) at = i;
      const src = constantSource(stored)!;
      const data = src.tensor.toFloat32();
      const dims = [...src.tensor.dims];
      const type = storedDataType(stored);
      const lossAt = async (delta: number): Promise<number> => {
        const moved = data.slice();
        moved[at]! += delta;
        replaceStoredTensor(stored, dims, moved, type);
        return ortLoss();
      };
      const fd = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
      replaceStoredTensor(stored, dims, data, type);
      expect(Math.abs(fd - g[at]!), `${stored.name}[${at}]: analytic ${g[at]}, finite difference ${fd}`).toBeLessThan(0.03 * Math.abs(g[at]!) + 2e-5);
    }
  });
});

describe('what --train selects in a decoder LM', () => {
  const model = loadModel(join(TRAINED, 'lm_kjv.onnx'));
  /** The labels of the nodes a stored constant reaches through Cast/Identity. */
  const readers = (v: Value): string[] => v.uses().flatMap((u) => (u.node.opType === 'Cast' || u.node.opType === 'Identity' ? readers(u.node.output(0)) : [u.node.label]));
  const select = (mode: LmTrainMode) => [...planLmTraining(model, mode)].map((v) => ({ name: v.name, readers: readers(v) }));

  it('ffn: the gate, up and down projections of the 4 layers, nothing else', () => {
    const ffn = select('ffn');
    expect(ffn).toHaveLength(12);
    for (const t of ffn) expect(t.readers.every((r) => /\/mlp\/(gate|up|down)_proj\/MatMul$/.test(r)), t.name).toBe(true);
  });

  it('attention: Q, K, V and O of the 4 layers, nothing else', () => {
    const att = select('attention');
    expect(att).toHaveLength(16);
    for (const t of att) expect(t.readers.every((r) => /\/self_attn\/[qkvo]_proj\/MatMul$/.test(r)), t.name).toBe(true);
  });

  it('all: every projection, the embedding, the 9 RMSNorm weights and the LM head, but no rotary table', () => {
    const all = select('all');
    const names = all.map((t) => t.name);
    expect(names).toContain('model.embed_tokens.weight');
    expect(names.filter((n) => /layernorm|norm\.weight/.test(n))).toHaveLength(9);
    const matmuls = model.graph.nodes.filter((n) => n.opType === 'MatMul' && constantSource(n.input(1)));
    expect(matmuls).toHaveLength(29);
    for (const m of matmuls) expect(names).toContain(constantSource(m.input(1))!.stored.name);
    expect(all).toHaveLength(1 + 9 + 29);
    for (const t of all) expect(t.readers.some((r) => r.includes('rotary')), t.name).toBe(false);
  });
});

describe('finetune --objective lm on a pruned lm_kjv', () => {
  const base = join(TRAINED, 'lm_kjv.onnx');
  const sample = join(TRAINED, 'lm_kjv_eval64.npy');
  let trainNpy = '';
  let heldOutNpy = '';

  beforeAll(async () => {
    // Windows 0–39 of the held-out sample train, 40–63 measure: no window is in both.
    const model = loadModel(base);
    const windows = await readTokenWindows(model, sample);
    const w = windows.window;
    trainNpy = writeWindows('train40.npy', windows.ids.subarray(0, 40 * w), w);
    heldOutNpy = writeWindows('heldout24.npy', windows.ids.subarray(40 * w), w);
  });

  it('lowers the held-out perplexity of an FFN-50 % pruned model, through the CLI; only the graph\'s weights change', () => {
    const pruned = join(dir, 'pruned.onnx');
    const tuned = join(dir, 'tuned.onnx');
    const p = runCli(['prune', base, '-o', pruned, '--scope', 'dense', '--layers', '/mlp/', '--ratio', '0.5', '--method', 'l2', '-q']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const f = runCli(['finetune', pruned, '-o', tuned, '--objective', 'lm', '--data', trainNpy, '--steps', '10', '--batch', '8',
      '--val-windows', '8', '--seed', '1', '--backend', 'wasm', '--json', '--no-progress'], { hangGuardMs: 600_000 });
    expect(f.stderr).toBe('');
    expect(f.code).toBe(0);
    const report = JSON.parse(f.stdout) as { trained: string[]; data: { train: number; val: number; window: number }; initialValLoss: number; history: { valLoss: number }[]; settings: { steps: number } };
    expect(report.data).toMatchObject({ train: 32, val: 8, window: 128 });
    expect(report.trained).toHaveLength(39);
    expect(report.settings.steps).toBe(10);
    expect(report.history.at(-1)!.valLoss).toBeLessThan(report.initialValLoss);

    const evaluate = (m: string) => {
      const r = runCli(['evaluate', m, '--data', heldOutNpy, '--ep', 'cpu', '--json']);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { perplexity: { perplexity: number; windows: number } }).perplexity;
    };
    const before = evaluate(pruned);
    const after = evaluate(tuned);
    expect(before.windows).toBe(24);
    expect(after.perplexity).toBeLessThan(0.9 * before.perplexity);

    // Same graph, same tensor names, types and shapes; only the values of trained tensors differ.
    const a = loadModel(pruned);
    const b = loadModel(tuned);
    expect(b.graph.nodes.map((n) => `${n.opType}:${n.label}`)).toEqual(a.graph.nodes.map((n) => `${n.opType}:${n.label}`));
    const stored = (m: Model) => new Map(m.graph.initializers.map((v) => [v.name, v.initializer!]));
    const sa = stored(a);
    for (const [name, t] of stored(b)) {
      const orig = sa.get(name)!;
      expect([t.dataType, t.dims], name).toEqual([orig.dataType, orig.dims]);
      if (!report.trained.includes(name)) expect(Buffer.from(t.toFloat32().buffer).equals(Buffer.from(orig.toFloat32().buffer)), name).toBe(true);
    }
  });

  it('--train ffn changes the FFN weights only (library, one step)', async () => {
    await initTrainingBackend('wasm');
    const model = loadModel(base);
    const before = new Map(model.graph.initializers.map((v) => [v.name, v.initializer!.toFloat32().slice()]));
    const ffn = new Set([...planLmTraining(model, 'ffn')].map((v) => v.name));
    const r = await finetuneLm(model, trainNpy, { train: 'ffn', steps: 1, batch: 2, valWindows: 0, seed: 2 });
    expect(new Set(r.trained)).toEqual(ffn);
    for (const v of model.graph.initializers) {
      const changed = !Buffer.from(v.initializer!.toFloat32().buffer).equals(Buffer.from(before.get(v.name)!.buffer));
      expect(changed, v.name).toBe(ffn.has(v.name));
    }
  });

  it('leaves no tfjs tensor behind: training steps and validation batches are all disposed', async () => {
    await initTrainingBackend('wasm');
    const before = tf.memory().numTensors;
    const r = await finetuneLm(loadModel(base), trainNpy, { train: 'ffn', steps: 2, batch: 2, valWindows: 4, seed: 2 });
    expect(r.history.at(-1)!.valLoss).toBeDefined();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('float16 weights behind Casts train and are written back as float16; the model still runs in onnxruntime', async () => {
    await initTrainingBackend('wasm');
    const path = join(DECODERS, 'llama.onnx');
    const model = loadModel(path);
    const g = model.graph;
    // The FFN weights stored as float16 and cast to float at use, as fp16 exports do.
    const halves: string[] = [];
    for (const v of planLmTraining(model, 'ffn')) {
      const t = v.initializer!;
      const half = g.addInitializer(Tensor.fromFloat32(`${v.name}_fp16`, t.dims, t.toFloat32(), DataType.FLOAT16));
      const cast = g.addNode('Cast', [half], [`${v.name}_cast`], { before: v.uses()[0]!.node });
      cast.setAttr('to', DataType.FLOAT);
      g.replaceAllUsesWith(v, cast.output(0));
      g.deleteValues([v]);
      halves.push(half.name);
    }
    g.topologicalSort();
    const before = new Map(halves.map((n) => [n, g.find(n)!.initializer!.toFloat32().slice()]));
    const ids = tokenIds(4, 16, vocabOf(model), 9);
    const r = await finetuneLm(model, writeWindows('fp16.npy', ids, 16), { train: 'ffn', steps: 2, batch: 2, valWindows: 0, lr: 1e-2 });
    expect(new Set(r.trained)).toEqual(new Set(halves));
    for (const n of halves) {
      const t = g.find(n)!.initializer!;
      expect(t.dataType, n).toBe(DataType.FLOAT16);
      expect(Buffer.from(t.toFloat32().buffer).equals(Buffer.from(before.get(n)!.buffer)), n).toBe(false);
    }
    const out = (await runOrt(model, ortFeeds(model, ids.subarray(0, 32), 2, 16)))[g.outputs[0]!.name]!;
    expect((out.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('refuses what does not apply, with one line and exit 2', () => {
    const out = join(dir, 'never.onnx');
    const classifier = runCli(['finetune', fixturePath('mlp'), '-o', out, '--objective', 'lm', '--data', trainNpy, '--no-progress']);
    expect(classifier.code).toBe(2);
    expect(classifier.stderr).toMatch(/needs a language model over token ids/);
    const head = runCli(['finetune', base, '-o', out, '--objective', 'lm', '--train', 'head', '--data', trainNpy, '--no-progress']);
    expect(head.code).toBe(2);
    expect(head.stderr.trim().split('\n')).toHaveLength(1);
    expect(head.stderr).toMatch(/--train head is for classifiers/);
    const text = runCli(['finetune', join(DECODERS, 'llama.onnx'), '-o', out, '--objective', 'lm', '--data', join(TRAINED, 'lm_kjv.json'), '--no-progress']);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/not the 256 bytes of a byte-level model/);
    expect(() => readFileSync(out)).toThrow();
  });
});
