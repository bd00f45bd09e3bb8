import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorShapeProto_DimensionSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/program.js';
import { ModelBuilder } from '../../src/ir/builder.js';
import { DataType } from '../../src/ir/dtype.js';
import { decodeModel } from '../../src/ir/load.js';
import { encodeModel, saveModel } from '../../src/ir/save.js';
import { captureOutput, tempDir } from '../support/index.js';
import { editModel, smallConvNet } from './models.js';

/**
 * What a run may write: never the input or anything it reads (its external data, through links too), nothing at all
 * when any output or data source is unusable (checked before any work), and no leftovers when it fails.
 */

const root = tempDir('outputs');

const cli = (...args: string[]) => captureOutput(() => main(['node', 'onnx-cprune', ...args]));

/** A fresh folder holding the small conv net with its weights in `<data>` (default model.onnx.data). */
function externalModel(data = 'model.onnx.data'): { folder: string; model: string } {
  const folder = mkdtempSync(join(root, 'case-'));
  const model = join(folder, 'model.onnx');
  saveModel(decodeModel(smallConvNet()), join(folder, 'tmp.onnx'), { externalData: true, externalThreshold: 0 });
  writeFileSync(model, editModel(readFileSync(join(folder, 'tmp.onnx')), (m) => {
    for (const t of m.graph!.initializer) for (const e of t.externalData) if (e.key === 'location') e.value = data;
  }));
  writeFileSync(join(folder, data), readFileSync(join(folder, 'tmp.onnx.data')));
  rmSync(join(folder, 'tmp.onnx'));
  rmSync(join(folder, 'tmp.onnx.data'));
  return { folder, model };
}

function snapshot(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(folder, { recursive: true }).map(String)) {
    const p = join(folder, f);
    out[f] = statSync(p).isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'dir';
  }
  return out;
}

function expectRefusal(r: { code: number; stderr: string }, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

describe('the input and everything it reads are never written', () => {
  it('refuses -o naming the input\'s external data file', async () => {
    const { folder, model } = externalModel();
    const before = snapshot(folder);
    expectRefusal(await cli(model, '-o', join(folder, 'model.onnx.data'), '--ratio', '0'), /the output model .*model\.onnx\.data' is an external data file of the input/);
    expect(snapshot(folder)).toEqual(before);
  });

  it('refuses -o out.onnx --external-data when the input\'s weights are out.onnx.data', async () => {
    const { folder, model } = externalModel('out.onnx.data');
    const before = snapshot(folder);
    expectRefusal(await cli(model, '-o', join(folder, 'out.onnx'), '--external-data', '--ratio', '0'), /the output's external data file .*out\.onnx\.data' is an external data file of the input/);
    expect(snapshot(folder)).toEqual(before);
  });

  it('refuses an output that is a link to the input\'s weights', async () => {
    const { folder, model } = externalModel();
    symlinkSync(join(folder, 'model.onnx.data'), join(folder, 'link.onnx'));
    const before = snapshot(folder);
    expectRefusal(await cli(model, '-o', join(folder, 'link.onnx'), '--ratio', '0'), /is an external data file of the input/);
    expect(snapshot(folder)).toEqual(before);
  });

  it('refuses --report onto the input\'s weights', async () => {
    const { folder, model } = externalModel();
    const before = snapshot(folder);
    expectRefusal(await cli(model, '-o', join(folder, 'out.onnx'), '--report', join(folder, 'model.onnx.data')), /the report .* is an external data file of the input/);
    expect(snapshot(folder)).toEqual(before);
  });

  it('refuses --html onto the input\'s weights, and a page in a missing folder or onto a directory', async () => {
    const { folder, model } = externalModel();
    mkdirSync(join(folder, 'page.html'));
    const before = snapshot(folder);
    expectRefusal(await cli(model, '-o', join(folder, 'out.onnx'), '--html', join(folder, 'model.onnx.data')), /the page .* is an external data file of the input/);
    expectRefusal(await cli(model, '-o', join(folder, 'out.onnx'), '--html', join(folder, 'no', 'page.html')), /cannot write the page .*: its folder does not exist/);
    expectRefusal(await cli(model, '-o', join(folder, 'out.onnx'), '--report', join(folder, 'r.json'), '--html', join(folder, 'page.html')), /cannot write the page .*: it is a directory/);
    expect(snapshot(folder)).toEqual(before);
  });

  it('saveModel itself refuses to write over a file the model was read from', async () => {
    const { folder, model } = externalModel();
    const { loadModel } = await import('../../src/ir/load.js');
    expect(() => saveModel(loadModel(model), join(folder, 'model.onnx.data'))).toThrow(/refusing to write .*model\.onnx\.data/);
    expect(() => saveModel(loadModel(model), join(folder, 'model.onnx'))).toThrow(/refusing to write/);
  });
});

describe('outputs and data sources are checked before anything is written', () => {
  it.each([
    ['--report onto a directory', (f: string) => { mkdirSync(join(f, 'report.json')); return ['--report', join(f, 'report.json')]; }, /cannot write the report .*: it is a directory/],
    ['--report into a missing folder', (f: string) => ['--report', join(f, 'no', 'report.json')], /cannot write the report .*: its folder does not exist/],
    ['--validate --data that does not exist', (f: string) => ['--validate', '--data', join(f, 'missing')], /the --data source .* does not exist/],
    ['--layer-ratios that does not exist', (f: string) => ['--layer-ratios', join(f, 'ratios.json')], /the --layer-ratios file .* does not exist/],
    ['--layers \'\'', () => ['--layers', ''], /--layers patterns must not be empty/],
    ['--exclude \'\'', () => ['--exclude', ''], /--exclude patterns must not be empty/],
    ['--layer-ratios with an empty pattern', (f: string) => { writeFileSync(join(f, 'r.json'), '{"default": 0.3, "layers": {"": 0.5}}'); return ['--layer-ratios', join(f, 'r.json')]; }, /a layer pattern must not be empty/],
  ])('%s: exit 2, no output, no temporary file', async (_what, extra, message) => {
    const folder = mkdtempSync(join(root, 'case-'));
    const model = join(folder, 'model.onnx');
    writeFileSync(model, smallConvNet());
    const args = extra(folder);
    const before = snapshot(folder);
    const r = await cli(model, '-o', join(folder, 'out.onnx'), '--scope', 'all', ...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(snapshot(folder)).toEqual(before);
  });

  it('writes the model, the report and its page together, leaving no temporary file', async () => {
    const folder = mkdtempSync(join(root, 'case-'));
    writeFileSync(join(folder, 'model.onnx'), smallConvNet());
    const r = await cli(join(folder, 'model.onnx'), '-o', join(folder, 'out.onnx'), '--scope', 'all', '--report', join(folder, 'r.json'), '--html', join(folder, 'r.html'), '-q');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(folder).sort()).toEqual(['model.onnx', 'out.onnx', 'r.html', 'r.json']);
  });
});

describe('models that lie about themselves are refused naming the node and what disagrees', () => {
  const lies: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['value_info claiming 11 channels where the Conv makes 4', (b) => editModel(b, (m) => {
      const dims = [1n, 11n, 8n, 8n].map((v) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: v } }));
      m.graph!.valueInfo.push({ ...m.graph!.input[0]!, name: m.graph!.node[0]!.output[0]!, type: { ...m.graph!.input[0]!.type!, value: { case: 'tensorType', value: { ...(m.graph!.input[0]!.type!.value.value as object), shape: { ...(m.graph!.input[0]!.type!.value.value as { shape: object }).shape, dim: dims } } } } as never });
    }), /node 'conv_0' \(Conv\): '.*' is declared with shape \[1, 11, 8, 8\] but the node makes \[1, 4, 8, 8\]/],
    ['Conv group 2 not dividing 3 input channels', (b) => editModel(b, (m) => {
      m.graph!.node[0]!.attribute.push({ ...m.graph!.node[0]!.attribute[0]!, name: 'group', type: 2, i: 2n, ints: [] });
    }), /node 'conv_0' \(Conv\): the input has 3 channels but the weight \[4, 3, 3, 3\] with group 2 expects 6/],
    ['Gemm weight of the wrong shape', (b) => editModel(b, (m) => { m.graph!.initializer.find((t) => t.name === 'fc.w')!.dims = [4n, 5n]; }),
      /node 'gemm_4' \(Gemm\): A \[1, 4\] and B \[4, 5\] \(transposed\) disagree on K \(4 vs 5\)/],
    ['graph input dims of -5', (b) => editModel(b, (m) => { (m.graph!.input[0]!.type!.value.value as { shape: { dim: { value: { value: bigint } }[] } }).shape.dim[2]!.value.value = -5n; }),
      /graph input 'x' declares shape \[1, 3, -5, 8\], with a dimension of -5/],
    ['graph input dims of 2^40', (b) => editModel(b, (m) => { (m.graph!.input[0]!.type!.value.value as { shape: { dim: { value: { value: bigint } }[] } }).shape.dim[2]!.value.value = 2n ** 40n; }),
      /graph input 'x' declares shape .* with a dimension of 1099511627776/],
    ['an undefined node input', (b) => editModel(b, (m) => { m.graph!.node[1]!.input[0] = 'nowhere'; }), /node 'relu_1' \(Relu\) reads 'nowhere' \(input 0\), which no node produces/],
    ['a graph output nothing produces', (b) => editModel(b, (m) => { m.graph!.output[0]!.name = 'nowhere'; }), /graph output 'nowhere' is not produced by any node/],
    ['no opset_import', (b) => editModel(b, (m) => { m.opsetImport = []; }), /domain 'ai.onnx', which the model's opset_import does not list/],
    ['ir_version 99', (b) => editModel(b, (m) => { m.irVersion = 99n; }), /IR version 99; onnx-cprune and onnxruntime read up to/],
    ['an attribute of the wrong type', (b) => editModel(b, (m) => { m.graph!.node[0]!.attribute[0]!.type = 1; }), /attribute 'pads' is of type float but Conv takes ints/],
  ];

  it.each(lies)('%s', async (_what, lie, message) => {
    const folder = mkdtempSync(join(root, 'case-'));
    writeFileSync(join(folder, 'model.onnx'), lie(smallConvNet()));
    expectRefusal(await cli(join(folder, 'model.onnx'), '-o', join(folder, 'out.onnx'), '--scope', 'all'), message);
    expect(readdirSync(folder)).toEqual(['model.onnx']);
  });

  it('a Concat axis of 99 or -99 is out of range for its rank', async () => {
    const b = new ModelBuilder(13);
    const x = b.input('x', [1, 3, 4, 4]);
    const c1 = b.op('Conv', [x, b.weight('w1', [2, 3, 1, 1])]);
    const c2 = b.op('Conv', [x, b.weight('w2', [5, 3, 1, 1])]);
    b.output(b.op('Concat', [c1, c2], { axis: 1 }));
    for (const axis of [99n, -99n]) {
      const folder = mkdtempSync(join(root, 'case-'));
      writeFileSync(join(folder, 'model.onnx'), editModel(encodeModel(b.build()), (m) => { m.graph!.node[2]!.attribute[0]!.i = axis; }));
      expectRefusal(await cli(join(folder, 'model.onnx'), '-o', join(folder, 'out.onnx'), '--scope', 'all'), new RegExp(`Concat\\): axis ${axis} is out of range for rank 4`));
    }
  });
});

describe('validate', () => {
  it('runs a model whose initializer overrides its graph input (IR >= 4: the input is optional, not fed)', async () => {
    const folder = mkdtempSync(join(root, 'case-'));
    const path = join(folder, 'model.onnx');
    writeFileSync(path, editModel(smallConvNet(), (m) => {
      m.graph!.initializer.push(create(TensorProtoSchema, { name: 'x', dims: [1n, 3n, 8n, 8n], dataType: DataType.FLOAT, rawData: new Uint8Array(4 * 192).fill(7) }));
    }));
    const r = await cli('validate', path, path, '--random', '3', '--no-latency', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { inputs: unknown[]; outputs: { maxAbs: number }[] };
    expect(report.inputs).toEqual([]);
    expect(report.outputs[0]!.maxAbs).toBe(0);
  });

  it.each([['1e9'], ['100001'], ['0x10']])('refuses --random %s with the bound', async (n) => {
    const folder = mkdtempSync(join(root, 'case-'));
    writeFileSync(join(folder, 'model.onnx'), smallConvNet());
    const r = await cli('validate', join(folder, 'model.onnx'), join(folder, 'model.onnx'), '--random', n);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--random must be an integer in \[1, 100000\]/);
  });

  it('turns onnxruntime\'s graph optimizations off for a value feeding hundreds of nodes, and says so', async () => {
    const b = new ModelBuilder(13);
    const x = b.input('x', [1, 2, 3, 3]);
    const branches = Array.from({ length: 600 }, (_, i) => b.op('Conv', [x, b.weight(`w${i}`, [1, 2, 1, 1])]));
    b.output(b.op('Concat', branches, { axis: 1 }));
    const folder = mkdtempSync(join(root, 'case-'));
    const path = join(folder, 'wide.onnx');
    writeFileSync(path, encodeModel(b.build()));
    const r = await cli('validate', path, path, '--random', '2', '--no-latency', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { notes: string[]; outputs: { maxAbs: number }[] };
    expect(report.notes.join('\n')).toMatch(/'x' feeds 600 nodes: onnxruntime's graph optimizations were turned off/);
    expect(report.outputs[0]!.maxAbs).toBe(0);
  });
});
