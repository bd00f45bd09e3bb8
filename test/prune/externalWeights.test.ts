import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { loadModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import { centralityPrune } from '../../src/passes/centralityPrune.js';
import { bitIdentical, feedsFor, runOrt, tempDir } from '../support/index.js';

/**
 * A model read with external data is pruned without its weights in memory (the sliced weights are computed from the
 * side file when written) and written with external data again: the same model as pruning it inline.
 */

const dir = tempDir('external-prune');

/** An MLP whose first weight (256 × 4096: 2 MiB as float16, 1.4 MiB once sliced) goes to external data. */
function mlp(dataType: number): ModelBuilder {
  const b = new ModelBuilder(17);
  // float16 weights behind a Cast to float, as exporters write them.
  const weight = (name: string, dims: number[]) => {
    const w = b.weight(name, dims, undefined, 0.5, dataType);
    return dataType === DataType.FLOAT ? w : b.op('Cast', [w], { to: DataType.FLOAT });
  };
  const x = b.input('x', [2, 256]);
  const h = b.op('Relu', [b.op('MatMul', [x, weight('w1', [256, 4096])], {}, { name: 'fc1' })]);
  b.output(b.op('MatMul', [h, weight('w2', [4096, 8])], {}, { name: 'fc2' }));
  return b;
}

describe('pruning a model with external data', () => {
  for (const dataType of [DataType.FLOAT, DataType.FLOAT16]) {
    it(`slices weights as they are written and keeps them external (${dataType === DataType.FLOAT ? 'float32' : 'float16'})`, async () => {
      const sub = join(dir, String(dataType));
      mkdirSync(sub);
      const external = join(sub, 'model.onnx');
      const inline = join(sub, 'inline.onnx');
      const b = mlp(dataType).build();
      saveModel(b, external, { externalData: true, externalThreshold: 0 });
      saveModel(b, inline, { externalData: false });

      const fromSideFile = loadModel(external);
      const report = await centralityPrune(fromSideFile, { ratio: 0.3, method: 'l2' });
      expect(report.groups[0]!.kept.length).toBe(2868);
      const w1 = fromSideFile.graph.initializers.find((v) => v.name === 'w1')!.initializer!;
      expect(w1.dims).toEqual([256, 2868]);
      expect(w1.deferred).toBe(true); // not sliced yet: computed from the side file when written
      const out = join(sub, 'pruned.onnx');
      saveModel(fromSideFile, out); // 'auto': external data, since the input had it
      expect(existsSync(`${out}.data`)).toBe(true);
      expect(statSync(out).size).toBeLessThan(4096);

      const fromFile = loadModel(inline);
      await centralityPrune(fromFile, { ratio: 0.3, method: 'l2' });
      const inlineOut = join(sub, 'pruned-inline.onnx');
      saveModel(fromFile, inlineOut);
      expect(existsSync(`${inlineOut}.data`)).toBe(false);

      const feeds = feedsFor(loadModel(inline));
      const [a, c] = [await runOrt(out, feeds), await runOrt(inlineOut, feeds)];
      expect(bitIdentical(a[Object.keys(a)[0]!]!, c[Object.keys(c)[0]!]!)).toBe(true);
    });
  }
});
