/**
 * MobileViT: timm's MobileVitBlock unfolds a feature map into patches by reshape/transpose, runs a transformer over
 * them and folds back. Checked twice: the torch fixture (fixtures/models/mobilevit.onnx, TorchScript) pruned by the
 * whole pass at --scope all --ratio 0.3, and the same block hand-built the way the dynamo exporter writes it.
 */
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel } from '../../src/ir/save.js';
import type { Value } from '../../src/ir/value.js';
import { centralityPrune } from '../../src/passes/centralityPrune.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { feedsFor, fixtureBytes, relativeError, runOrt } from '../support/index.js';
import { withLogits } from './helpers/logits.js';
import { maskedReference } from './helpers/maskedReference.js';
import { TOLERANCE } from './helpers/oracle.js';
import { removalsOf } from './helpers/prune.js';
import { ruleCase, shapeOf } from './helpers/ruleCase.js';

describe('MobileViT fixture, --scope all --ratio 0.3 --prune-residual', () => {
  it('prunes every group but the classifier; the result runs in onnxruntime and matches the masked original', async () => {
    const bytes = fixtureBytes('mobilevit');
    const groups = analyze(decodeModel(bytes));
    expect(groups.filter((g) => !g.prunable).map((g) => g.reason)).toEqual(["its channels reach the graph output 'logits'"]);
    // The patch-folding blocks: the transformer's residual stream is one group with the 1x1 conv before the unfold.
    expect(groups.some((g) => g.prunable && g.producers.some((n) => n.label.includes('conv_1x1')) && g.producers.some((n) => n.label.includes('attn/proj')))).toBe(true);

    const model = decodeModel(bytes);
    const report = await centralityPrune(model, { scope: 'all', ratio: 0.3, pruneResidual: true });
    const pruned = encodeModel(model);
    expect(report.groups.filter((g) => !g.declined).length).toBe(groups.length - 1);
    expect(report.macs.after).toBeLessThan(0.7 * report.macs.before);

    const keep = new Map(report.groups.filter((g) => !g.declined).map((g) => [g.id, g.kept]));
    const feeds = feedsFor(decodeModel(bytes), { seed: 5 });
    const reference = await maskedReference(bytes, removalsOf(groups, keep), feeds);
    const [a, b] = await Promise.all([runOrt(withLogits(pruned).bytes, feeds), runOrt(withLogits(reference).bytes, feeds)]);
    expect(a.logits!.dims).toEqual([1, 10]);
    expect(relativeError(a.logits!, b.logits!)).toBeLessThanOrEqual(TOLERANCE);
  });
});

/**
 * One MobileViT block on a 7x7 map as the dynamo exporter writes it (opset 18): batch-norm outputs named
 * `getitem_*`, Resize sizes from Concat(Shape(x, start=0, end=2), [8, 8]), the unfold's first `view` from a Concat of
 * Shape-derived scalars (B·C·nh), the other views as constants with -1, and q/k/v from Split(num_outputs=3)+Squeeze.
 */
function dynamoBlock(): ModelBuilder {
  const b = new ModelBuilder(18, 11);
  const named = (name: string, type: string, inputs: (Value | null)[], attrs: Parameters<ModelBuilder['op']>[2] = {}) => b.op(type, inputs, attrs, { name });
  const ints = (name: string, values: number[], dims?: number[]) => b.int64(name, values, dims);
  const bn = (name: string, x: Value, c: number) => named(name, 'BatchNormalization', [x, b.weight(`${name}.s`, [c]), b.weight(`${name}.b`, [c]), b.weight(`${name}.m`, [c]), b.weight(`${name}.v`, [c], Array(c).fill(1))]);
  const conv = (name: string, x: Value, cin: number, cout: number, k = 1) =>
    named(name, 'Conv', [x, b.weight(`${name}.w`, [cout, cin, k, k])], { pads: Array(4).fill((k - 1) / 2) });
  const silu = (name: string, x: Value) => named(`${name}.silu`, 'Mul', [x, named(`${name}.sig`, 'Sigmoid', [x])]);
  const resize = (name: string, x: Value, hw: number[]) => {
    const bc = named(`${name}.shape`, 'Shape', [x], { start: 0, end: 2 });
    const sizes = named(`${name}.sizes`, 'Concat', [bc, named(`${name}.cast`, 'Cast', [ints(`${name}.hw`, hw)], { to: DataType.INT64 })], { axis: 0 });
    return named(name, 'Resize', [x, null, null, sizes], { mode: 'linear' });
  };
  const C = 6; // block channels
  const D = 8; // transformer dim (2 heads of 4)
  const x = b.input('x', [1, 3, 7, 7]);
  const shortcut = silu('stem', bn('getitem', conv('stem', x, 3, C, 3), C));
  const local = conv('conv_1x1', silu('kxk', bn('getitem_1', conv('conv_kxk', shortcut, C, C, 3), C)), C, D);
  const up = resize('upsample', local, [8, 8]);
  // view(B*C*nh, ph, nw, pw) with B*C*nh from the shape: Gather(Shape, 0) * Gather(Shape, 1) * 4.
  const shape = named('sym_size', 'Shape', [up]);
  const bcn = named('mul_2', 'Mul', [named('mul_1', 'Mul', [named('getitem_2', 'Gather', [shape, ints('zero', [0], [])], { axis: 0 }),
    named('getitem_3', 'Gather', [shape, ints('one', [1], [])], { axis: 0 })]), ints('nh', [4], [])]);
  const unfoldShape = named('cat', 'Concat', [named('unsq', 'Unsqueeze', [bcn, ints('ax0', [0])]), ints('rest', [2, 4, 2])], { axis: 0 });
  let t = named('view', 'Reshape', [up, unfoldShape]);
  t = named('transpose', 'Transpose', [t], { perm: [0, 2, 1, 3] });
  t = named('view_1', 'Reshape', [t, ints('s1', [1, D, 16, 4])]);
  t = named('transpose_1', 'Transpose', [t], { perm: [0, 3, 2, 1] });
  const tokens = named('view_2', 'Reshape', [t, ints('s2', [4, 16, -1])]);
  // Transformer: LayerNorm, packed QKV, heads, attention, projection, residual.
  const ln = named('layer_norm', 'LayerNormalization', [tokens, b.weight('ln.w', [D]), b.weight('ln.b', [D])], { axis: -1 });
  const qkv = named('addmm', 'Add', [named('mm', 'MatMul', [ln, b.weight('qkv.w', [D, 3 * D])]), b.weight('qkv.b', [3 * D])]);
  const heads = named('permute', 'Transpose', [named('view_3', 'Reshape', [qkv, ints('s3', [4, 16, 3, 2, 4])])], { perm: [2, 0, 3, 1, 4] });
  const [q, k, v] = b.node('Split', [heads], { axis: 0, num_outputs: 3 }, { name: 'unbind', outputs: 3 }).outputs.map((o, i) => named(`getitem_${4 + i}`, 'Squeeze', [o!, ints(`sq${i}`, [0])]));
  const attn = named('softmax', 'Softmax', [named('matmul', 'MatMul', [q!, named('transpose_2', 'Transpose', [k!], { perm: [0, 1, 3, 2] })])], { axis: -1 });
  const ctx = named('view_4', 'Reshape', [named('transpose_3', 'Transpose', [named('matmul_1', 'MatMul', [attn, v!])], { perm: [0, 2, 1, 3] }), ints('s4', [4, 16, D])]);
  const proj = named('addmm_1', 'Add', [named('mm_1', 'MatMul', [ctx, b.weight('proj.w', [D, D])]), b.weight('proj.b', [D])]);
  const res = named('add', 'Add', [tokens, proj]);
  // Fold: view(B, P, N, -1) → transpose(1, 3) → view(B*C*nh, nw, ph, pw) → transpose(1, 2) → view(B, C, H, W).
  t = named('view_5', 'Reshape', [res, ints('s5', [1, 4, 16, -1])]);
  t = named('transpose_4', 'Transpose', [t], { perm: [0, 3, 2, 1] });
  t = named('view_6', 'Reshape', [t, ints('s6', [4 * D, 4, 2, 2])]);
  t = named('transpose_5', 'Transpose', [t], { perm: [0, 2, 1, 3] });
  t = named('view_7', 'Reshape', [t, ints('s7', [1, D, 8, 8])]);
  const down = resize('downsample', t, [7, 7]);
  const projected = silu('proj', bn('getitem_7', conv('conv_proj', down, D, C), C));
  const fused = silu('fusion', bn('getitem_8', conv('conv_fusion', named('cat_1', 'Concat', [shortcut, projected], { axis: 1 }), 2 * C, C, 3), C));
  b.output(conv('head', fused, C, 2));
  return b;
}

describe('a MobileViT block as the dynamo exporter writes it', () => {
  it('couples the transformer stream with the 1x1 conv through unfold and fold; pruned, it matches the masked original', async () => {
    await ruleCase(dynamoBlock(), (groups) => {
      // The packed QKV is pruned a whole head at a time (2 heads).
      expect(shapeOf(groups)).toEqual(['stem:6', 'conv_kxk:6', 'conv_1x1+mm_1:8', 'mm:2', 'conv_proj:6', 'conv_fusion:6', 'head:2!']);
    });
  });
});
