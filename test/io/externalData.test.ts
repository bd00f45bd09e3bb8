import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/ir/builder.js';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import { encodeModel, saveModel } from '../../src/ir/save.js';
import { editModel, smallConvNet } from '../cli/models.js';
import { alsoWith, feedsFor, FIXTURE_DIR, fixtureModels, onnxCheck, runOrt, tempDir, type Outputs } from '../support/index.js';

/** Weights in a side file: same tensors, same onnxruntime outputs, read lazily, back inline byte for byte. */

const dir = tempDir('external');

/** A real export when the fixtures exist, else the builder model written to a file. */
function sourceModel(): string {
  const preferred = join(FIXTURE_DIR, 'resnet18.onnx');
  if (existsSync(preferred)) return preferred;
  const any = fixtureModels()[0];
  if (any) return any;
  const p = join(dir, 'small.onnx');
  writeFileSync(p, smallConvNet());
  return p;
}

function saveExternal(src: string, name: string, threshold?: number): string {
  const sub = join(dir, name);
  mkdirSync(sub, { recursive: true });
  const out = join(sub, 'model.onnx');
  saveModel(loadModel(src), out, { externalData: true, ...(threshold === undefined ? {} : { externalThreshold: threshold }) });
  return out;
}

describe('external data', () => {
  it('reloads the same tensors, runs the same in onnxruntime, and passes the checker', async () => {
    const src = sourceModel();
    const out = saveExternal(src, 'same');
    expect(statSync(`${out}.data`).size).toBeGreaterThan(0);
    expect(statSync(out).size).toBeLessThan(statSync(src).size);

    const original = loadModel(src);
    const reloaded = loadModel(out);
    expect(reloaded.graph.initializers.some((v) => v.initializer!.external)).toBe(true);
    expect(reloaded.graph.initializers.map((v) => v.name)).toEqual(original.graph.initializers.map((v) => v.name));
    original.graph.initializers.forEach((v, i) => {
      const r = reloaded.graph.initializers[i]!.initializer!;
      expect(r.dims, v.name).toEqual(v.initializer!.dims);
      expect(r.dataType, v.name).toBe(v.initializer!.dataType);
      expect(Buffer.from(r.bytes()).equals(Buffer.from(v.initializer!.bytes())), v.name).toBe(true);
    });

    const feeds = feedsFor(original);
    // onnxruntime reads the side file itself, resolving `location` against the model's folder.
    const data = (outputs: Outputs) => Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, t.data]));
    expect(data(await runOrt(out, feeds))).toEqual(data(await runOrt(readFileSync(src), feeds)));
    alsoWith(['onnx'], () => expect(onnxCheck([out])).toEqual([null]));
  });

  it('puts every tensor of at least the threshold in the side file, 4 KiB aligned', () => {
    const out = saveExternal(sourceModel(), 'threshold', 0);
    const m = loadModel(out);
    for (const v of m.graph.initializers) {
      const ext = v.initializer!.external;
      if (v.initializer!.byteLength === 0) continue;
      expect(ext, v.name).toBeDefined();
      expect(ext!.offset % 4096, v.name).toBe(0);
    }
  });

  it('writing an external-data model inline again gives back the original file', () => {
    const src = sourceModel();
    const out = saveExternal(src, 'inline-again');
    const inline = join(dir, `inline-${basename(src)}`);
    saveModel(loadModel(out), inline, { externalData: false });
    expect(readFileSync(inline).equals(readFileSync(src))).toBe(true);
  });

  it('reads tensor data lazily: only when asked, from the file as it is then', () => {
    const out = saveExternal(sourceModel(), 'lazy', 0);
    const m = loadModel(out);
    const v = m.graph.initializers.find((x) => x.initializer!.external && x.initializer!.byteLength >= 16)!;
    const src = v.initializer!.external!;
    // Nothing was read at load: the proto holds no data, and bytes changed on disk after loading are what we get.
    expect(v.initializer!.proto.rawData.byteLength).toBe(0);
    const data = readFileSync(`${out}.data`);
    for (let i = src.offset; i < src.offset + src.length; i++) data[i] = data[i]! ^ 0xff;
    writeFileSync(`${out}.data`, data);
    const got = v.initializer!.bytes();
    expect(Buffer.from(got).equals(data.subarray(src.offset, src.offset + src.length))).toBe(true);
  });

  it('reads a tensor that lies beyond 2 GiB in its side file (positional reads; the file is sparse)', () => {
    const sub = join(dir, 'beyond2g');
    mkdirSync(sub);
    const b = new ModelBuilder();
    const x = b.input('x', [4]);
    const y = b.op('Add', [x, b.weight('w', [4], [1.5, -2, 3.25, 1e-3])]);
    b.output(y);
    const path = join(sub, 'model.onnx');
    saveModel(b.build(), path, { externalData: true, externalThreshold: 0 });
    const offset = 610_352 * 4096; // 2.33 GiB, 4 KiB aligned
    const data = readFileSync(`${path}.data`).subarray(0, 16);
    const fd = openSync(`${path}.data`, 'r+');
    writeSync(fd, data, 0, 16, offset);
    closeSync(fd);
    writeFileSync(path, editModel(readFileSync(path), (m) => {
      m.graph!.initializer[0]!.externalData.find((e) => e.key === 'offset')!.value = String(offset);
    }));
    const t = loadModel(path).graph.initializers[0]!.initializer!;
    expect(t.external!.offset).toBe(offset);
    expect(Array.from(t.toFloat32())).toEqual([1.5, -2, 3.25, Math.fround(1e-3)]);
  });

  it('decodes a model from bytes with external data resolved against baseDir', () => {
    const out = saveExternal(sourceModel(), 'basedir');
    const m = decodeModel(readFileSync(out), { baseDir: join(dir, 'basedir'), source: out });
    expect(encodeModel(m).byteLength).toBe(statSync(out).size);
  });
});
