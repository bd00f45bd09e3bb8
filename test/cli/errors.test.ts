import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, AttributeProto_AttributeType, NodeProtoSchema } from 'onnx-buf';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import { fixtureModels, runCli, seededBytes, tempDir, type CliResult } from '../support/index.js';
import { editModel, smallConvNet } from './models.js';

/**
 * Every kind of bad input must end the CLI with exit code 2 and exactly one line on stderr: no stack trace, no hang,
 * no output (or temp) file left behind, and the input untouched.
 */

const root = tempDir('errors');
const inDir = join(root, 'in');
beforeAll(() => mkdirSync(inDir));

/** A model whose weights sit in `<name>.data` beside it; `edit` may then corrupt its external_data entries. */
function externalModel(name: string, edit?: (location: { value: string }) => void): string {
  const dir = join(inDir, name);
  mkdirSync(dir);
  const path = join(dir, 'model.onnx');
  saveModel(decodeModel(smallConvNet()), path, { externalData: true, externalThreshold: 0 });
  if (edit) {
    writeFileSync(path, editModel(readFileSync(path), (m) => {
      const entry = m.graph!.initializer[0]!.externalData.find((e) => e.key === 'location')!;
      edit(entry);
    }));
  }
  return path;
}

/** Each case writes its bad input under inDir and returns the path to hand the CLI. */
const cases: { name: string; make: () => string; message: RegExp }[] = [
  { name: 'a directory', message: /not a file/, make: () => { const d = join(inDir, 'adir.onnx'); mkdirSync(d); return d; } },
  { name: 'a missing path', message: /no such file/, make: () => join(inDir, 'missing.onnx') },
  { name: 'a text file', message: /not (a valid ONNX|an ONNX) model/, make: () => write('notes.onnx', 'these are notes, not a model\n'.repeat(20)) },
  { name: 'random bytes', message: /not (a valid ONNX|an ONNX) model/, make: () => write('random.onnx', seededBytes(4096, 12345)) },
  {
    name: 'a truncated protobuf', message: /not a valid ONNX model/,
    make: () => {
      const real = fixtureModels()[0];
      const bytes = real ? readFileSync(real) : smallConvNet();
      return write('truncated.onnx', bytes.subarray(0, bytes.byteLength >> 1));
    },
  },
  {
    name: 'raw_data shorter than its dims', message: /raw_data holds \d+ bytes but dims/,
    make: () => write('short_raw.onnx', editModel(smallConvNet(), (m) => {
      const t = m.graph!.initializer[0]!;
      t.rawData = t.rawData.slice(0, t.rawData.byteLength - 4);
    })),
  },
  {
    name: 'a missing external data file', message: /external data file .* not found/,
    make: () => { const p = externalModel('ext_missing'); rmSync(`${p}.data`); return p; },
  },
  {
    name: 'an absolute external location', message: /absolute path/,
    // The file exists at that absolute path, so only the rule stops the read.
    make: () => externalModel('ext_absolute', (e) => { e.value = join(inDir, 'ext_absolute', 'model.onnx.data'); }),
  },
  {
    name: 'an external location escaping the folder', message: /escapes the model's folder/,
    // A real copy of the weights waits outside the folder, so only the rule stops the read.
    make: () => {
      const p = externalModel('ext_escape', (e) => { e.value = '../outside.data'; });
      copyFileSync(`${p}.data`, join(inDir, 'outside.data'));
      return p;
    },
  },
  {
    name: 'absurd initializer dims', message: /dims \[1000000000000, 1000000000000\], over 2\^53 elements/,
    make: () => write('bomb_init.onnx', editModel(smallConvNet(), (m) => {
      const t = m.graph!.initializer[0]!;
      t.dims = [10n ** 12n, 10n ** 12n];
      t.rawData = new Uint8Array(0);
    })),
  },
  {
    name: 'absurd dims in a Constant node', message: /dims \[1000000000000, 1000000000000\], over 2\^53 elements/,
    make: () => write('bomb_constant.onnx', editModel(smallConvNet(), (m) => {
      const g = m.graph!;
      const t = g.initializer.shift()!;
      t.dims = [10n ** 12n, 10n ** 12n];
      t.rawData = new Uint8Array(0);
      const attr = create(AttributeProtoSchema, { name: 'value', type: AttributeProto_AttributeType.TENSOR, t });
      g.node.unshift(create(NodeProtoSchema, { opType: 'Constant', name: 'bomb', output: [t.name], attribute: [attr] }));
    })),
  },
  {
    name: 'a cycle in the graph', message: /cycle/,
    // Conv reads the Relu's output, which depends on the Conv.
    make: () => write('cycle.onnx', editModel(smallConvNet(), (m) => {
      const [conv, relu] = m.graph!.node;
      conv!.input[0] = relu!.output[0]!;
    })),
  },
  {
    name: 'a node reading its own output', message: /cycle/,
    make: () => write('self_loop.onnx', editModel(smallConvNet(), (m) => {
      const relu = m.graph!.node[1]!;
      relu.input[0] = relu.output[0]!;
    })),
  },
];

function write(name: string, data: string | Uint8Array): string {
  const p = join(inDir, name);
  writeFileSync(p, data);
  return p;
}

/** Content hash of every file under a folder, to prove inputs were left alone. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir, { recursive: true }).map(String)) {
    const p = join(dir, f);
    if (statSync(p).isFile()) out.set(f, createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}

function expectOneLineError(r: CliResult, message: RegExp): void {
  expect(r.timedOut, 'the CLI hung').toBe(false);
  expect(r.signal).toBeNull();
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, `stderr: ${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^onnx-cprune: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+\)?$|internal error/m);
  expect(r.code).toBe(2);
}

describe('bad input ends with exit 2 and one line on stderr', () => {
  const inputs = new Map<string, string>();
  beforeAll(() => {
    for (const c of cases) inputs.set(c.name, c.make());
  });

  it.each(cases.map((c) => [c.name, c] as const))('prune: %s', (name, c) => {
    const before = snapshot(inDir);
    const outDir = mkdtempSync(join(root, 'out-'));
    const r = runCli([inputs.get(name)!, '-o', join(outDir, 'out.onnx'), '--ratio', '0']);
    expectOneLineError(r, c.message);
    expect(readdirSync(outDir), 'output or temp files left behind').toEqual([]);
    expect(snapshot(inDir)).toEqual(before);
  });

  it.each(cases.map((c) => [c.name, c] as const))('inspect: %s', (name, c) => {
    const before = snapshot(inDir);
    expectOneLineError(runCli(['inspect', inputs.get(name)!]), c.message);
    expect(snapshot(inDir)).toEqual(before);
  });
});

describe('CLI guards', () => {
  it('refuses -o equal to the input, however it is spelled', () => {
    const input = write('same.onnx', smallConvNet());
    const before = snapshot(inDir);
    const r = runCli(['same.onnx', '-o', join(inDir, '.', 'same.onnx'), '--ratio', '0'], { cwd: inDir });
    expectOneLineError(r, /output path is the input/);
    expect(snapshot(inDir)).toEqual(before);
    expect(readdirSync(inDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(input)).toEqual(Buffer.from(smallConvNet()));
  });

  it('refuses -o that is a link to the input', () => {
    const input = write('linked.onnx', smallConvNet());
    symlinkSync(input, join(inDir, 'link.onnx'));
    const r = runCli(['linked.onnx', '-o', 'link.onnx', '--ratio', '0'], { cwd: inDir });
    expectOneLineError(r, /output path is the input/);
    expect(readFileSync(input)).toEqual(Buffer.from(smallConvNet()));
  });

  it.each([
    ['a missing folder', (d: string) => join(d, 'no', 'such', 'dir', 'out.onnx'), /its folder does not exist/],
    ['an existing directory', (d: string) => { mkdirSync(join(d, 'taken.onnx')); return join(d, 'taken.onnx'); }, /it is a directory/],
  ] as const)('refuses an output path in %s, leaving no temp file', (_what, target, message) => {
    const input = write('good.onnx', smallConvNet());
    const outDir = mkdtempSync(join(root, 'out-'));
    expectOneLineError(runCli([input, '-o', target(outDir), '--ratio', '0']), message);
    expect(readdirSync(outDir, { recursive: true }).map(String).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('--help exits 0 and shows usage on stdout', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: onnx-cprune/);
    expect(r.stdout).toMatch(/inspect/);
  });

  it('a missing required option is a usage error: exit 2', () => {
    const r = runCli([join(inDir, 'whatever.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--output/);
  });
});
