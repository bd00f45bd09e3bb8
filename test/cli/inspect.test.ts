import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { encodeModel } from '../../src/ir/save.js';
import { modelStats } from '../../src/ir/stats.js';
import { Tensor } from '../../src/ir/tensor.js';
import { FIXTURE_DIR, fixtureModels, fixturePath, itWith, MANIFEST, paddleModels, runCli, runPython } from '../support/index.js';

/**
 * `inspect`: parameter counts against the torch-side counts the fixture script saved (fixtures/models/manifest.json),
 * op counts against the manifest's (counted by python onnx), MACs against counts worked out by hand below.
 */

const fixtures = Object.entries(MANIFEST).map(([name, e]) => [name, fixturePath(name), e] as const);

/** A builder graph round-tripped through bytes, as a file would load. */
function built(make: (b: ModelBuilder) => void): Model {
  const b = new ModelBuilder();
  make(b);
  return decodeModel(encodeModel(b.build()));
}

describe('inspect on the fixtures', () => {
  it.each(fixtures)('%s: --json params equal the torch-side count, op counts equal the manifest', (_name, path, entry) => {
    const r = runCli(['inspect', path, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const field of ['irVersion', 'opsets', 'producer', 'nodes', 'opCounts', 'params', 'paramBytes', 'macs', 'inputs', 'outputs'])
      expect(report, field).toHaveProperty(field);
    expect(report.params).toBe(entry.params);
    expect(report.nodes).toBe(entry.nodes);
    expect(report.opCounts).toEqual(entry.opCounts);
    expect(report.macs as number).toBeGreaterThan(0);
    expect(report.macsUnknown, 'every Conv/Gemm/MatMul has known shapes').toEqual([]);
  });

  it('prints a readable table', () => {
    const path = join(FIXTURE_DIR, 'cnn_small.onnx');
    if (!existsSync(path)) return;
    const r = runCli(['inspect', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^params\s+92,359 \(92\.36k\)/m);
    expect(r.stdout).toMatch(/^MACs\s+[\d,]+ /m);
    expect(r.stdout).toMatch(/^op counts\n(\s+\w+\s+\d+\n)+/m);
    expect(r.stdout).toMatch(/^\s+Conv\s+2$/m);
    expect(r.stdout).toMatch(/^compute\n\s+node\s+op\s+MACs\s+params/m);
  });

  it('a dynamic batch dimension is counted as 1 and flagged', () => {
    const dyn = join(FIXTURE_DIR, 'shufflenet_v2_dynbatch.onnx');
    const fixed = join(FIXTURE_DIR, 'shufflenet_v2.onnx');
    if (!existsSync(dyn) || !existsSync(fixed)) return;
    const a = modelStats(loadModel(dyn));
    const b = modelStats(loadModel(fixed));
    expect(a.macsBatchAssumed).toBe(true);
    expect(b.macsBatchAssumed).toBe(false);
    expect(a.macs).toBe(b.macs);
  });
});

describe('params against python-onnx', () => {
  const models = [...fixtureModels(), ...paddleModels()];

  itWith(['onnx', 'numpy'], 'params and paramBytes equal an independent count over the same files (fixtures and PaddleOCR)', () => {
    const reference = runPython<Record<string, { params: number; paramBytes: number }>>('params_reference.py', models);
    for (const path of models) {
      const s = modelStats(loadModel(path));
      expect({ params: s.params, paramBytes: s.paramBytes }, path).toEqual(reference[path]);
    }
  });
});

describe('MACs by hand', () => {
  it('Conv 2-D, padded: N·Cout·Hout·Wout·Cin·kH·kW', () => {
    // x [1,3,8,8], W [4,3,3,3], pads 1 → y [1,4,8,8]; 1·4·8·8 · 3·3·3 = 256 · 27 = 6912
    const s = modelStats(built((b) => b.output(b.op('Conv', [b.input('x', [1, 3, 8, 8]), b.weight('w', [4, 3, 3, 3]), b.weight('bias', [4])], { pads: [1, 1, 1, 1] }))));
    expect(s.perNode).toEqual([{ node: 'conv_0', op: 'Conv', macs: 6912, params: 4 * 27 + 4, batchAssumed: false }]);
    expect(s.macs).toBe(6912);
  });

  it('Conv grouped and strided, batch 2: N·Cout·Hout·Wout·(Cin/group)·kH·kW', () => {
    // x [2,8,16,16], W [8,2,3,3], group 4, stride 2, pads 1 → y [2,8,8,8]; 2·8·8·8 · 2·3·3 = 1024 · 18 = 18432
    const s = modelStats(built((b) => b.output(b.op('Conv', [b.input('x', [2, 8, 16, 16]), b.weight('w', [8, 2, 3, 3])], { group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }))));
    expect(s.macs).toBe(18432);
  });

  it('Conv depthwise with dilation', () => {
    // x [1,6,10,10], W [6,1,3,3], group 6, dilation 2, no pad → y [1,6,6,6] (10 − 2·2 = 6); 1·6·6·6 · 1·3·3 = 216 · 9 = 1944
    const s = modelStats(built((b) => b.output(b.op('Conv', [b.input('x', [1, 6, 10, 10]), b.weight('w', [6, 1, 3, 3])], { group: 6, dilations: [2, 2] }))));
    expect(s.macs).toBe(1944);
  });

  it('Conv 1-D and 3-D', () => {
    // 1-D: x [1,4,10], W [6,4,3] → y [1,6,8]; 1·6·8 · 4·3 = 48 · 12 = 576
    // 3-D: x [1,2,4,4,4], W [3,2,3,3,3], pads 1 → y [1,3,4,4,4]; 1·3·64 · 2·27 = 192 · 54 = 10368
    const s = modelStats(built((b) => {
      b.output(b.op('Conv', [b.input('x1', [1, 4, 10]), b.weight('w1', [6, 4, 3])]));
      b.output(b.op('Conv', [b.input('x3', [1, 2, 4, 4, 4]), b.weight('w3', [3, 2, 3, 3, 3])], { pads: [1, 1, 1, 1, 1, 1] }));
    }));
    expect(s.perNode.map((n) => n.macs)).toEqual([576, 10368]);
    expect(s.macs).toBe(576 + 10368);
  });

  it('ConvTranspose: every input element meets (Cout/group)·kH·kW weights', () => {
    // x [1,4,5,5], W [4,2,3,3], stride 2 → y [1,2,11,11]; 1·4·5·5 · 2·3·3 = 100 · 18 = 1800
    const s = modelStats(built((b) => b.output(b.op('ConvTranspose', [b.input('x', [1, 4, 5, 5]), b.weight('w', [4, 2, 3, 3])], { strides: [2, 2] }))));
    expect(s.macs).toBe(1800);
  });

  it('Gemm with and without transposes: M·N·K', () => {
    // A [3,10] · B [10,7] → 3·7·10 = 210; A [3,10] · Bᵀ (B [7,10]) → 210; Aᵀ (A [10,3]) · B [10,7] → 210
    const s = modelStats(built((b) => {
      b.output(b.op('Gemm', [b.input('a', [3, 10]), b.weight('b0', [10, 7]), b.weight('c0', [7])]));
      b.output(b.op('Gemm', [b.input('a1', [3, 10]), b.weight('b1', [7, 10])], { transB: 1 }));
      b.output(b.op('Gemm', [b.input('a2', [10, 3]), b.weight('b2', [10, 7])], { transA: 1 }));
    }));
    expect(s.perNode.map((n) => n.macs)).toEqual([210, 210, 210]);
    expect(s.perNode[0]!.params).toBe(70 + 7);
  });

  it('MatMul batched with broadcasting, and with a 1-D operand', () => {
    // A [2,4,5,6] · B [6,3] → Y [2,4,5,3]; 2·4·5·3 · 6 = 120 · 6 = 720
    // v [6] · B [6,3] → Y [3]; 3 · 6 = 18
    // A [2,1,5,6] · B [4,6,2] → Y [2,4,5,2]; 2·4·5·2 · 6 = 80 · 6 = 480
    const s = modelStats(built((b) => {
      b.output(b.op('MatMul', [b.input('a', [2, 4, 5, 6]), b.weight('w', [6, 3])]));
      b.output(b.op('MatMul', [b.input('v', [6]), b.weight('w1', [6, 3])]));
      b.output(b.op('MatMul', [b.input('p', [2, 1, 5, 6]), b.input('q', [4, 6, 2])]));
    }));
    expect(s.perNode.map((n) => n.macs)).toEqual([720, 18, 480]);
    expect(s.macs).toBe(720 + 18 + 480);
  });

  it('an unknown batch dimension counts as 1 and is flagged', () => {
    // x [N,3,8,8] → as N = 1: 1·4·8·8 · 3·3·3 = 6912
    const s = modelStats(built((b) => b.output(b.op('Conv', [b.input('x', ['N', 3, 8, 8]), b.weight('w', [4, 3, 3, 3])], { pads: [1, 1, 1, 1] }))));
    expect(s.macs).toBe(6912);
    expect(s.macsBatchAssumed).toBe(true);
  });

  it('a chain: Conv → Relu → Flatten → Gemm adds up', () => {
    // Conv x [1,2,4,4], W [3,2,1,1] → [1,3,4,4]: 1·3·4·4 · 2 = 96
    // Flatten → [1,48]; Gemm W [48,5] → 1·5·48 = 240; total 336
    const s = modelStats(built((b) => {
      const c = b.op('Conv', [b.input('x', [1, 2, 4, 4]), b.weight('w', [3, 2, 1, 1])]);
      b.output(b.op('Gemm', [b.op('Flatten', [b.op('Relu', [c])]), b.weight('fc', [48, 5])]));
    }));
    expect(s.macs).toBe(96 + 240);
    expect(s.opCounts).toEqual({ Conv: 1, Relu: 1, Flatten: 1, Gemm: 1 });
    expect(s.nodes).toBe(4);
  });
});

describe('params definition', () => {
  it('counts float tensors with more than one element, fp16 behind Cast and Constant-node values; not scalars or ints', () => {
    const s = modelStats(built((b) => {
      const x = b.input('x', [1, 4]);
      const half = b.weight('w16', [4, 3], undefined, 0.5, DataType.FLOAT16); // 12 elements, 24 bytes
      const w = b.op('Cast', [half], { to: DataType.FLOAT });
      const k = b.op('Constant', [], { value: Tensor.fromFloat32('k', [2, 2], Float32Array.of(1, 2, 3, 4)) }); // 4, 16 bytes
      const scalar = b.weight('scale', [1], [2]); // one element: not a parameter
      const shape = b.int64('shape', [1, 3]); // integers: not a parameter
      const y = b.op('Mul', [b.op('MatMul', [x, w]), scalar]);
      b.output(b.op('Reshape', [y, shape]));
      b.output(k);
    }));
    expect(s.params).toBe(12 + 4);
    expect(s.paramBytes).toBe(24 + 16);
    expect(s.perNode.find((n) => n.op === 'MatMul')!.params).toBe(12);
  });
});
