import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { inferShapes } from '../../src/ir/shapeInference.js';
import type { Shape, Value } from '../../src/ir/value.js';
import { alsoWith, has, runPython, tempDir } from '../support/index.js';
import { HAND_CASES } from './handBuiltCases.js';
import { compareWith, type TypedDims } from './oracle.js';
import { compareWithRuntime, runtimeDims } from './runtimeOracle.js';

/** python-onnx 1.12 knows opsets up to 17. */
const PYTHON_MAX_OPSET = 17;

interface Built { model: Model; expected: [Value, Shape][]; file: string }

describe('shape inference on hand-built graphs', () => {
  const dir = tempDir('shapes-hand');
  const built = new Map<string, Built>();
  let python: Record<string, { values: Record<string, TypedDims>; error: string | null }> | undefined;

  beforeAll(() => {
    HAND_CASES.forEach((c, i) => {
      const b = new ModelBuilder(c.opset);
      const expected = c.build(b);
      const model = b.build();
      const file = join(dir, `case${i}.onnx`);
      writeFileSync(file, encodeModel(model));
      built.set(c.name, { model, expected, file });
    });
    const files = HAND_CASES.filter((c) => c.opset <= PYTHON_MAX_OPSET).map((c) => built.get(c.name)!.file);
    if (has('onnx')) python = runPython('onnx_shapes.py', ['infer', ...files]);
  });

  it.each(HAND_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { model, expected, file } = built.get(c.name)!;
    const result = inferShapes(model);
    expect(result.unknownOps.size).toBe(0);
    for (const [v, shape] of expected) expect(v.shape, v.name).toEqual(shape);

    if (c.opset <= PYTHON_MAX_OPSET) alsoWith(['onnx'], () => {
      const ref = python![file]!;
      expect(ref.error).toBeNull();
      const values = Object.fromEntries(Object.entries(ref.values).filter(([name]) => !c.pythonDiffers?.includes(name)));
      const cmp = compareWith(model.graph, values, c.name);
      expect(cmp.mismatches).toEqual([]);
      expect(cmp.values).toBeGreaterThan(0);
      for (const name of c.pythonDiffers ?? []) expect(ref.values[name]?.dims).not.toEqual(model.graph.find(name)?.shape);
    });
    if (!c.noRuntime) {
      const { known, wrong } = compareWithRuntime(model, await runtimeDims(model));
      expect(wrong).toEqual([]);
      expect(known).toBeGreaterThan(0);
    }
  });
});
