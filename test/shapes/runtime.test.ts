import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/ir/load.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import { fixtureModels, paddleModels } from '../support/index.js';
import { compareWithRuntime, runtimeDims } from './runtimeOracle.js';

/**
 * The dims onnxruntime actually produces are the last word: every node output of every fixture is exposed and
 * run once; each dim we inferred (from the graph inputs alone, the file's shapes forgotten) must match.
 */
const paths = [...fixtureModels(), ...paddleModels()];

describe('inferred shapes match onnxruntime on the fixtures', () => {
  it.each(paths.map((p) => [basename(p), p]))('%s', async (_name, path) => {
    const model = loadModel(path);
    for (const n of model.graph.nodes) for (const v of n.outputs) if (v) { v.shape = undefined; v.elemType = undefined; }
    inferShapes(model);
    const { known, wrong } = compareWithRuntime(model, await runtimeDims(model));
    expect(wrong).toEqual([]);
    expect(known).toBeGreaterThan(0);
  });
});
