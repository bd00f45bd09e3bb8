import { basename } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { constantSource } from '../../src/ir/constants.js';
import { loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import type { Node } from '../../src/ir/node.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import { describeWith, fixtureModels, paddleModels, runPython } from '../support/index.js';
import { addComparison, compareWith, emptyComparison, type TypedDims } from './oracle.js';

/**
 * Real exporter output (fixtures/models: torch 1.13 exports; fixtures/.cache: PaddleOCR models when fetched):
 * with every shape the file declared for node outputs removed, our inference must agree with python-onnx's and
 * with what the exporter wrote, and know every channel dimension.
 */

/** What the file declared for node outputs (value_info and graph outputs), then forgotten. */
function forgetNodeOutputShapes(model: Model): Record<string, TypedDims> {
  const declared: Record<string, TypedDims> = {};
  for (const node of model.graph.nodes) {
    for (const v of node.outputs) {
      if (!v) continue;
      if (v.shape || v.elemType) declared[v.name] = { elemType: v.elemType ?? null, dims: v.shape ?? null };
      v.shape = undefined;
      v.elemType = undefined;
    }
  }
  return declared;
}

/** The axis that carries channels / features in each op's output (MatMul: only against a constant weight). */
function channelAxis(node: Node, rank: number): number | undefined {
  switch (node.opType) {
    case 'Conv': case 'ConvTranspose': case 'Gemm': return 1;
    case 'MatMul': return constantSource(node.input(1)) ? rank - 1 : undefined;
    default: return undefined;
  }
}

const paths = [...fixtureModels(), ...paddleModels()];

describeWith(['onnx'], 'shape inference on exporter fixtures', () => {
  let python: Record<string, { values: Record<string, TypedDims>; error: string | null }> = {};
  beforeAll(() => { python = runPython('onnx_shapes.py', ['infer', ...paths]); });

  it.each(paths.map((p) => [basename(p), p]))('%s', (_name, path) => {
    const model = loadModel(path);
    const declared = forgetNodeOutputShapes(model);
    const result = inferShapes(model);
    expect([...result.unknownOps]).toEqual([]);
    expect(result.unresolved.map((v) => v.name)).toEqual([]);
    const untyped = model.graph.nodes.flatMap((n) => n.outputs).filter((v) => v && v.elemType === undefined);
    expect(untyped.map((v) => v!.name)).toEqual([]);

    const ref = python[path]!;
    expect(ref.error).toBeNull();
    const vsPython = compareWith(model.graph, ref.values, path);
    const vsFile = compareWith(model.graph, declared, `${path} (declared)`);
    expect(vsPython.mismatches).toEqual([]);
    expect(vsFile.mismatches).toEqual([]);

    const unknownChannels: string[] = [];
    for (const node of model.graph.nodes) {
      const shape = node.outputs[0]?.shape;
      const axis = channelAxis(node, shape?.length ?? 0);
      if (axis === undefined) continue;
      if (!shape || typeof shape[axis] !== 'number') unknownChannels.push(`${node.label}: [${shape}]`);
    }
    expect(unknownChannels).toEqual([]);

    // Recomputing with overwrite on an unchanged model changes nothing.
    const first = new Map(model.graph.nodes.flatMap((n) => n.outputs).filter((v) => v !== null).map((v) => [v, v.shape]));
    inferShapes(model, { overwrite: true });
    for (const [v, shape] of first) expect(v.shape, v.name).toEqual(shape);
    totals.models++;
    addComparison(totals.python, vsPython);
    addComparison(totals.file, vsFile);
  });

  const totals = { models: 0, python: emptyComparison(), file: emptyComparison() };
  it('reports coverage', () => {
    const p = totals.python;
    const f = totals.file;
    console.log(`fixtures: ${totals.models} models; vs python-onnx: ${p.values} values, ${p.bothKnown} dims both known (equal), ${p.oursOnly} only ours, ${p.theirsOnly} only theirs`);
    console.log(`fixtures vs exporter's value_info: ${f.values} values, ${f.bothKnown} dims both known (equal), ${f.oursOnly} only ours, ${f.theirsOnly} only theirs`);
    expect(totals.models).toBe(paths.length);
  });
});
