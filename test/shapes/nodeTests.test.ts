import { beforeAll, expect, it } from 'vitest';
import { loadModel } from '../../src/ir/load.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import { shapeRuleFor } from '../../src/ir/shapes/rules.js';
import { describeWith, LIBONNX_TESTDATA as DATA, runPython, tempDir } from '../support/index.js';
import { addComparison, compareWith, emptyComparison, type TypedDims } from './oracle.js';

/**
 * ONNX's own node test models (Debian libonnx-testdata): for every model whose ops all have a shape rule, our
 * inference must agree with python-onnx's wherever both know a dim, and with the true output dims numpy computed.
 */
/** The newest opset python-onnx 1.12 knows. */
const MAX_OPSET = 17;

interface Prepared {
  model: string;
  opset: number;
  values: Record<string, TypedDims>;
  truth: Record<string, TypedDims>;
  error: string | null;
}

describeWith(['libonnx-testdata', 'onnx'], 'shape inference on ONNX node tests', () => {
  const dir = tempDir('shapes-node');
  let prepared: Record<string, Prepared> = {};

  beforeAll(() => {
    prepared = runPython<Record<string, Prepared>>('onnx_shapes.py', ['prepare-node', dir, `${DATA}/node/*`, `${DATA}/pytorch-converted/*`, `${DATA}/pytorch-operator/*`, `${DATA}/simple/*`]);
  });

  it('agrees with python-onnx and with the true output dims', () => {
    const vsPython = emptyComparison();
    const vsTruth = emptyComparison();
    const skipped = new Map<string, number>();
    let covered = 0;
    let outputsFullyKnown = 0;
    let outputs = 0;
    for (const [name, entry] of Object.entries(prepared)) {
      const model = loadModel(entry.model);
      const unsupported = model.graph.nodes.find((n) => n.domain !== '' || !shapeRuleFor(n.opType));
      if (entry.opset > MAX_OPSET || entry.error || unsupported) {
        const why = unsupported ? `${unsupported.domain ? unsupported.domain + '.' : ''}${unsupported.opType}` : entry.error ? 'python error' : 'opset';
        skipped.set(why, (skipped.get(why) ?? 0) + 1);
        continue;
      }
      covered++;
      inferShapes(model);
      addComparison(vsPython, compareWith(model.graph, entry.values, name));
      addComparison(vsTruth, compareWith(model.graph, entry.truth, `${name} (numpy)`));
      for (const out of Object.keys(entry.truth)) {
        outputs++;
        const v = model.graph.find(out);
        if (v?.shape && v.shape.every((d) => typeof d === 'number')) outputsFullyKnown++;
      }
    }
    const total = Object.keys(prepared).length;
    console.log(`node tests: ${covered}/${total} models covered; skipped by first unsupported op: ${JSON.stringify(Object.fromEntries([...skipped].sort((a, b) => b[1] - a[1])))}`);
    console.log(`vs python-onnx: ${vsPython.values} values, ${vsPython.bothKnown} dims both known (equal), ${vsPython.oursOnly} only ours, ${vsPython.theirsOnly} only theirs`);
    console.log(`vs numpy outputs: ${outputsFullyKnown}/${outputs} outputs fully known, ${vsTruth.bothKnown} dims equal, ${vsTruth.theirsOnly} dims unknown to us`);
    expect(vsPython.mismatches).toEqual([]);
    expect(vsTruth.mismatches).toEqual([]);
    expect(covered).toBeGreaterThan(700);
  });
});
