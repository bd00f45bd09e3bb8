import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { constantSource } from '../../src/ir/constants.js';
import { DataType } from '../../src/ir/dtype.js';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import { encodeModel, saveModel } from '../../src/ir/save.js';
import { Tensor } from '../../src/ir/tensor.js';
import type { Value } from '../../src/ir/value.js';
import { alsoWith, feedsFor, fixtureModels, onnxCheck, ort, paddleModels, runOrt, tempDir } from '../support/index.js';

/** A model whose weights we change, then save, must run in onnxruntime with the output the new weights imply. */

const dir = tempDir('modify');

/** Replaces the data behind a constant (initializer or Constant node, through any Cast), keeping its stored type. */
function replaceConstant(v: Value, values: number[]): void {
  const src = constantSource(v);
  if (!src) throw new Error(`'${v.name}' is not a constant`);
  const t = Tensor.fromFloat32(src.tensor.name, src.tensor.dims, Float32Array.from(values), src.tensor.dataType);
  if (src.stored.initializer) src.stored.initializer = t;
  else src.stored.producer()!.setAttr('value', t);
}

describe('modify, save, run', () => {
  it('a MatMul + Add whose weights are replaced computes x·W + b with the new values', async () => {
    const b = new ModelBuilder();
    const x = b.input('x', [2, 3]);
    const y = b.op('Add', [b.op('MatMul', [x, b.weight('W', [3, 4])]), b.weight('bias', [4])]);
    y.shape = [2, 4];
    y.elemType = DataType.FLOAT;
    b.output(y);
    const model = decodeModel(encodeModel(b.build()));

    // W = [[1,0,0,2],[0,1,0,2],[0,0,1,2]], bias = [10,20,30,40]
    replaceConstant(model.graph.find('W')!, [1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 1, 2]);
    replaceConstant(model.graph.find('bias')!, [10, 20, 30, 40]);
    const out = join(dir, 'matmul.onnx');
    saveModel(model, out);

    // x = [[1,2,3],[4,5,6]]: row 1 → [1, 2, 3, 2·(1+2+3)] + bias = [11, 22, 33, 52];
    //                         row 2 → [4, 5, 6, 2·(4+5+6)] + bias = [14, 25, 36, 70].
    const feeds = { x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]) };
    const result = await runOrt(out, feeds);
    expect(Array.from(result[y.name]!.data as Float32Array)).toEqual([11, 22, 33, 52, 14, 25, 36, 70]);
    alsoWith(['onnx'], () => expect(onnxCheck([out])).toEqual([null]));
  });

  /** Real exports ending in a classifier Gemm: zero its weight and set its bias, and every logit row is the bias. */
  const classifiers = [...fixtureModels(), ...paddleModels()].filter((p) => {
    const m = loadModel(p);
    const last = m.graph.outputs[0]?.producer();
    return last?.opType === 'Gemm' && constantSource(last.input(1)) && constantSource(last.input(2));
  });

  it.each(classifiers.map((p) => [basename(p), p]))('%s: zeroed classifier weight, bias 0..k-1', async (_name, path) => {
    const model = loadModel(path);
    const gemm = model.graph.outputs[0]!.producer()!;
    const w = constantSource(gemm.input(1))!.tensor;
    const k = constantSource(gemm.input(2))!.tensor.numel;
    replaceConstant(gemm.input(1)!, new Array<number>(w.numel).fill(0));
    replaceConstant(gemm.input(2)!, Array.from({ length: k }, (_, i) => i));
    const out = join(dir, basename(path));
    saveModel(model, out);

    const feeds = feedsFor(model);
    const logits = Array.from((await runOrt(out, feeds))[model.graph.outputs[0]!.name]!.data as Float32Array);
    const rows = logits.length / k;
    expect(Number.isInteger(rows) && rows >= 1).toBe(true);
    expect(logits).toEqual(Array.from({ length: rows }, () => Array.from({ length: k }, (_, i) => i)).flat());
    alsoWith(['onnx'], () => expect(onnxCheck([out])).toEqual([null]));
  });
});
