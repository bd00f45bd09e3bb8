import { beforeAll, expect, it } from 'vitest';
import { loadModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import { validateModels } from '../../src/runtime/validate.js';
import { describeWith, FASHION_MNIST, has, itWith, runPython, tempDir } from '../support/index.js';

interface Figures { maxAbs: number; meanAbs: number; maxRel: number; meanRel: number; top1Agreement: number; accOriginal: number; accPruned: number }
/** `fashion` and `means` only when validate_case.py was given the Fashion-MNIST folder. */
interface Expected extends Figures { params: number; macs: number; fashion: Figures; means: { maxAbs: number; meanAbs: number } }

const dir = tempDir('validate');
let want: Expected;

function expectDeviationAsNumpy(r: Awaited<ReturnType<typeof validateModels>>): void {
  const o = r.outputs[0]!;
  expect(o.shapesMatch).toBe(true);
  expect(o.maxAbs!).toBeCloseTo(want.maxAbs, 4);
  expect(o.meanAbs!).toBeCloseTo(want.meanAbs, 5);
  expect(o.maxRel!).toBeCloseTo(want.maxRel, 5);
  expect(o.meanRel!).toBeCloseTo(want.meanRel, 5);
  expect(o.top1Agreement).toBe(want.top1Agreement);
  expect(r.accuracy).toEqual({ output: 'logits', original: want.accOriginal, pruned: want.accPruned, samples: 50 });
}

describeWith(['onnx', 'numpy'], 'validateModels on a Gemm classifier and a copy with weights x1.5 (numpy predicts the figures)', () => {
  beforeAll(() => {
    want = runPython<Expected>('validate_case.py', has('fashion-mnist') ? [dir, FASHION_MNIST] : [dir]);
  });

  it('reports deviation, top-1 agreement, accuracy, params and MACs, on the CPU', async () => {
    const r = await validateModels(`${dir}/original.onnx`, `${dir}/scaled.onnx`, { ep: 'cpu', data: `${dir}/x.npy`, batch: 16, runs: 2, warmup: 1 });
    expect(r.ep).toBe('cpu');
    expect(r.notice).toBeUndefined();
    expect(r.data).toMatchObject({ samples: 50, sampleShape: [8], labelled: true });
    expect(r.outputs[0]!.originalShape).toEqual([16, 5]);
    expectDeviationAsNumpy(r);
    expect(r.stats).toMatchObject({ original: { params: want.params, macs: want.macs }, pruned: { params: want.params, macs: want.macs }, macsRatio: 1 });
    expect(r.latency.map((l) => l.batch)).toEqual([1, 16]);
    for (const l of r.latency) expect(l.ratio).toBeCloseTo(l.pruned.medianMs / l.original.medianMs, 10);
  });

  it('uses a fixed batch dimension, says so, and pads the last batch without counting the padding', async () => {
    const r = await validateModels(`${dir}/fixed4.onnx`, `${dir}/fixed4_scaled.onnx`, { ep: 'cpu', data: `${dir}/x.npy`, runs: 1, warmup: 0 });
    expect(r.inputs[0]).toMatchObject({ dims: [4, 8], fixedBatch: 4 });
    expect(r.notes.join(' ')).toMatch(/fixed batch size of 4/);
    expect(r.latency.map((l) => l.batch)).toEqual([4]);
    expectDeviationAsNumpy(r);
  });

  it('gives identical models zero deviation on seeded random inputs, the same whatever the batch size', async () => {
    const a = await validateModels(`${dir}/original.onnx`, `${dir}/original.onnx`, { ep: 'cpu', random: 10, batch: 3, latency: false });
    expect(a.outputs[0]).toMatchObject({ maxAbs: 0, meanAbs: 0, maxRel: 0, top1Agreement: 1 });
    expect(a.latency).toEqual([]);
    const b1 = await validateModels(`${dir}/original.onnx`, `${dir}/scaled.onnx`, { ep: 'cpu', random: 10, batch: 3, latency: false });
    const b2 = await validateModels(`${dir}/original.onnx`, `${dir}/scaled.onnx`, { ep: 'cpu', random: 10, batch: 7, latency: false });
    expect(b2.outputs[0]!.maxAbs).toBeCloseTo(b1.outputs[0]!.maxAbs!, 6);
    expect(b2.outputs[0]!.meanAbs).toBeCloseTo(b1.outputs[0]!.meanAbs!, 6);
  });

  it('accepts in-memory models, including one whose weights live in external data', async () => {
    const m = loadModel(`${dir}/scaled.onnx`);
    saveModel(m, `${dir}/external.onnx`, { externalData: true, externalThreshold: 0 });
    const external = loadModel(`${dir}/external.onnx`);
    expect(external.graph.initializers.some((v) => v.initializer!.external)).toBe(true);
    const r = await validateModels(loadModel(`${dir}/original.onnx`), external, { ep: 'cpu', data: `${dir}/x.npy`, latency: false });
    expect(r.pruned).toBe('pruned');
    expectDeviationAsNumpy(r);
  });

  itWith(['fashion-mnist'], 'feeds Fashion-MNIST test images (IDX folder) to a flat 784-input classifier, as numpy predicts', async () => {
    const r = await validateModels(`${dir}/flat784.onnx`, `${dir}/flat784_noisy.onnx`, { ep: 'cpu', data: FASHION_MNIST, batch: 500, latency: false });
    const f = want.fashion;
    const o = r.outputs[0]!;
    expect(r.data).toMatchObject({ samples: 10000, sampleShape: [784], labelled: true });
    expect(o.maxAbs!).toBeCloseTo(f.maxAbs, 3);
    expect(o.meanAbs!).toBeCloseTo(f.meanAbs, 4);
    expect(o.maxRel!).toBeCloseTo(f.maxRel, 4);
    expect(o.meanRel!).toBeCloseTo(f.meanRel, 4);
    // float32 sums against numpy's float64 may reorder a near-tie or two in 10000 samples.
    expect(Math.abs(o.top1Agreement! - f.top1Agreement)).toBeLessThanOrEqual(3e-4);
    expect(Math.abs(r.accuracy!.original - f.accOriginal)).toBeLessThanOrEqual(3e-4);
    expect(Math.abs(r.accuracy!.pruned - f.accPruned)).toBeLessThanOrEqual(3e-4);
  });

  for (const layout of ['nchw', 'nhwc'] as const) {
    itWith(['fashion-mnist'], `adapts grey 28x28 images to a 3-channel ${layout.toUpperCase()} input from the model's shape`, async () => {
      const r = await validateModels(`${dir}/mean_${layout}.onnx`, `${dir}/mean_${layout}_x1.1.onnx`, { ep: 'cpu', data: FASHION_MNIST, batch: 1000, latency: false });
      expect(r.data.sampleShape).toEqual(layout === 'nchw' ? [3, 28, 28] : [28, 28, 3]);
      const o = r.outputs[0]!;
      expect(o.maxAbs!).toBeCloseTo(want.means.maxAbs, 5);
      expect(o.meanAbs!).toBeCloseTo(want.means.meanAbs, 5);
      expect(r.accuracy).toBeUndefined();
      expect(r.notes.join(' ')).toMatch(/accuracy not computed/);
    });
  }

  it('rejects data that does not fit the model input in one line', async () => {
    await expect(validateModels(`${dir}/original.onnx`, `${dir}/scaled.onnx`, { ep: 'cpu', data: `${dir}/x_labels.npy`, latency: false }))
      .rejects.toThrow(/data samples have shape \[\] but model input 'x' expects \[8\]/);
  });
});
