import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearField, create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { UserError } from '../../src/ir/errors.js';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import { Tensor } from '../../src/ir/tensor.js';
import { editModel, smallConvNet } from '../cli/models.js';
import { tempDir } from '../support/index.js';

/**
 * Tensors that disagree with themselves, and external data that points where it must not, are refused when the model
 * is loaded, with one line naming the tensor and what disagrees; nothing is allocated from what the dims claim.
 */

const dir = tempDir('hostile');

/** conv.w of the small conv net is a float [4, 3, 3, 3] initializer (432 bytes of raw_data). */
function withWeight(edit: (t: TensorProto, m: ModelProto) => void): Uint8Array {
  return editModel(smallConvNet(), (m) => edit(m.graph!.initializer.find((t) => t.name === 'conv.w')!, m));
}

/** The UserError message `load` throws (bytes are decoded, a path is loaded); the test fails if it loads. */
function refusal(load: Uint8Array | string): string {
  try {
    if (typeof load === 'string') loadModel(load);
    else decodeModel(load);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('the model was accepted');
}

describe('tensors are validated once, at load', () => {
  it.each([
    [0, /data_type 0, which ONNX does not define/],
    [99, /data_type 99, which ONNX does not define/],
    [-3, /data_type -3, which ONNX does not define/],
    [2 ** 31 - 1, /data_type 2147483647, which ONNX does not define/],
  ])('refuses data_type %i', (type, message) => {
    expect(refusal(withWeight((t) => { t.dataType = type; }))).toMatch(message);
  });

  it.each([
    ['STRING', DataType.STRING, /string tensors cannot use raw_data/],
    ['FLOAT8E4M3FN', DataType.FLOAT8E4M3FN, /raw_data holds 432 bytes but dims \[4, 3, 3, 3\] of float8e4m3fn need 108/],
    ['INT4', DataType.INT4, /raw_data holds 432 bytes but dims \[4, 3, 3, 3\] of int4 need 54/],
    ['DOUBLE', DataType.DOUBLE, /raw_data holds 432 bytes but dims \[4, 3, 3, 3\] of double need 864/],
  ])('refuses a %s tensor whose raw_data is a float tensor\'s', (_name, type, message) => {
    expect(refusal(withWeight((t) => { t.dataType = type; }))).toMatch(message);
  });

  it('reads a known but unsupported type only to refuse it by name, never by recursion', () => {
    const t = Tensor.fromBytes('q', [4], DataType.FLOAT8E4M3FN, new Uint8Array(4));
    t.validate();
    expect(() => t.toFloat32()).toThrow(/'q': float8e4m3fn values cannot be read as numbers/);
    expect(() => t.toNumbers()).toThrow(UserError);
    const packed = Tensor.fromBytes('p', [3], DataType.INT4, new Uint8Array(2));
    packed.validate();
    expect(() => packed.toFloat32()).toThrow(/int4 values cannot be read/);
  });

  it('a float type with the same byte size is loaded, but Conv refuses operands of two types', () => {
    const bytes = withWeight((t) => { t.dataType = DataType.INT32; });
    const m = decodeModel(bytes);
    expect(m.graph.initializers.find((v) => v.name === 'conv.w')!.initializer!.dataType).toBe(DataType.INT32);
    return import('../../src/ir/shapeInference.js').then(({ inferShapes }) =>
      expect(() => inferShapes(m)).toThrow(/Conv.*inputs 0 and 1 .* one element type \(T\) but are float and int32/));
  });

  it.each([
    ['a negative dim', (t: TensorProto) => { t.dims = [4n, -3n, 3n, 3n]; }, /negative dimension -3/],
    ['dims claiming 2^40 elements (refused in milliseconds, nothing allocated)', (t: TensorProto) => { t.dims = [2n ** 20n, 2n ** 20n]; }, /raw_data holds 432 bytes but dims \[1048576, 1048576\] of float need 4398046511104/],
    ['dims past 2^53 elements', (t: TensorProto) => { t.dims = [2n ** 62n, 4n]; }, /over 2\^53 elements/],
    ['raw_data emptied', (t: TensorProto) => { t.rawData = new Uint8Array(0); }, /'conv.w': raw_data holds 0 bytes but dims \[4, 3, 3, 3\] of float need 432/],
    ['raw_data removed', (t: TensorProto) => { clearField(t, TensorProtoSchema.field.rawData); }, /'conv.w' holds no data but dims \[4, 3, 3, 3\] of float need 108 values/],
    ['raw_data shorter', (t: TensorProto) => { t.rawData = t.rawData.slice(0, 288); }, /raw_data holds 288 bytes but dims \[4, 3, 3, 3\] of float need 432/],
    ['float_data one short', (t: TensorProto) => { t.floatData = new Array<number>(107).fill(0); clearField(t, TensorProtoSchema.field.rawData); }, /float_data holds 107 values but dims \[4, 3, 3, 3\] of float need 108/],
    ['float_data beside a raw_data field present but empty (read as raw_data, as onnxruntime does)', (t: TensorProto) => { t.floatData = new Array<number>(108).fill(0); t.rawData = new Uint8Array(0); }, /holds data both in raw_data and in float_data/],
    ['data in the wrong typed field', (t: TensorProto) => { t.int64Data = [1n]; clearField(t, TensorProtoSchema.field.rawData); }, /float values belong in float_data, but int64_data holds data/],
    ['data in raw_data and a typed field', (t: TensorProto) => { t.floatData = [1]; }, /float values belong in float_data, but .*|holds data both in raw_data and in float_data/],
    ['external_data entries while data_location is DEFAULT', (t: TensorProto) => {
      t.externalData = [create(StringStringEntryProtoSchema, { key: 'location', value: 'w.bin' })];
      t.rawData = new Uint8Array(0);
    }, /raw_data holds 0 bytes .* \(its external_data entries are ignored: data_location is not EXTERNAL\)/],
  ])('refuses %s', (_what, edit, message) => {
    const t0 = performance.now();
    expect(refusal(withWeight(edit))).toMatch(message);
    expect(performance.now() - t0).toBeLessThan(5_000); // a refusal, not an allocation: generous for a loaded machine
  });

  it('accepts the same weights in float_data, with the same values as raw_data', () => {
    const raw = decodeModel(smallConvNet()).graph.initializers.find((v) => v.name === 'conv.w')!.initializer!.toFloat32();
    const typed = decodeModel(withWeight((t) => { t.floatData = Array.from(raw); clearField(t, TensorProtoSchema.field.rawData); }));
    expect(typed.graph.initializers.find((v) => v.name === 'conv.w')!.initializer!.toFloat32()).toEqual(raw);
  });

  it('checks tensors inside attributes too, naming the node', () => {
    const bytes = editModel(smallConvNet(), (m) => {
      const g = m.graph!;
      const w = g.initializer.shift()!;
      w.rawData = w.rawData.slice(4);
      g.node.unshift({ ...g.node[0]!, opType: 'Constant', name: 'const_w', input: [], output: [w.name], attribute: [{ ...g.node[0]!.attribute[0]!, name: 'value', type: 4, t: w, ints: [] }] });
    });
    expect(refusal(bytes)).toMatch(/attribute 'value' of node 'const_w': raw_data holds 428 bytes/);
  });
});

describe('external data: only regular files inside the model\'s folder, read within bounds', () => {
  /** A copy of the small conv net with every tensor in <name>/model.onnx.data, its entries then edited. */
  function external(name: string, edit?: (entries: Map<string, string>, folder: string) => void): string {
    const folder = join(dir, name);
    mkdirSync(folder);
    const path = join(folder, 'model.onnx');
    saveModel(decodeModel(smallConvNet()), path, { externalData: true, externalThreshold: 0 });
    if (edit) {
      writeFileSync(path, editModel(readFileSync(path), (m) => {
        const t = m.graph!.initializer.find((x) => x.name === 'conv.w')!;
        const entries = new Map(t.externalData.map((e) => [e.key, e.value]));
        edit(entries, folder);
        t.externalData = [...entries].map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
      }));
    }
    return path;
  }

  it('reads a link that stays inside the folder', () => {
    const path = external('inside-link', (e, folder) => {
      symlinkSync('model.onnx.data', join(folder, 'alias.data'));
      e.set('location', 'alias.data');
    });
    expect(loadModel(path).graph.initializers.find((v) => v.name === 'conv.w')!.initializer!.toFloat32()).toHaveLength(108);
  });

  it('refuses a link inside the folder that leads out of it (real paths are compared)', () => {
    const path = external('outside-link', (e, folder) => {
      writeFileSync(join(dir, 'secret.data'), readFileSync(join(folder, 'model.onnx.data')));
      symlinkSync(join(dir, 'secret.data'), join(folder, 'link.data'));
      e.set('location', 'link.data');
    });
    expect(refusal(path)).toMatch(/'link.data' is a link leading out of the model's folder/);
  });

  it('refuses a location naming a directory', () => {
    const path = external('a-dir', (e, folder) => { mkdirSync(join(folder, 'weights')); e.set('location', 'weights'); });
    expect(refusal(path)).toMatch(/'weights' is a directory, not a file/);
  });

  it('refuses a FIFO without opening it (no hang)', () => {
    const path = external('a-fifo', (e, folder) => { execFileSync('mkfifo', [join(folder, 'pipe')]); e.set('location', 'pipe'); });
    expect(refusal(path)).toMatch(/'pipe' is a FIFO, not a regular file/);
  });

  it('refuses a device, through a link', () => {
    const path = external('a-device', (e, folder) => { symlinkSync('/dev/zero', join(folder, 'zero')); e.set('location', 'zero'); });
    expect(refusal(path)).toMatch(/link leading out of the model's folder|is a device/);
  });

  it.each(['1e3', '', ' 5', '0x10', '-0', '-4', '4.0', '99999999999999999999'])('refuses the offset %j', (offset) => {
    const path = external(`offset-${Buffer.from(offset).toString('hex')}`, (e) => { e.set('offset', offset); });
    expect(refusal(path)).toMatch(/external data offset '.*' is not a non-negative decimal integer/);
  });

  it('refuses a length running past the end of the file', () => {
    const path = external('past-end', (e) => { e.set('length', '100000'); });
    expect(refusal(path)).toMatch(/range offset=0 length=100000 lies outside 'model.onnx.data'/);
  });

  it('refuses an unknown or repeated key', () => {
    expect(refusal(external('unknown-key', (e) => { e.set('colour', 'blue'); }))).toMatch(/unknown external_data key 'colour'/);
  });
});
