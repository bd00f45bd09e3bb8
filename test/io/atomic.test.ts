import { mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/ir/errors.js';
import { decodeModel, loadModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import { smallConvNet } from '../cli/models.js';
import { tempDir } from '../support/index.js';

/** A save that fails part way leaves nothing behind: no output, no side file, no temp file. */

const dir = tempDir('atomic');

const listing = (d: string): string[] => readdirSync(d).sort();

describe('atomic save', () => {
  it('a tensor that cannot be read mid-save (side file already half written) leaves no file', () => {
    const src = join(dir, 'src');
    mkdirSync(src);
    saveModel(decodeModel(smallConvNet()), join(src, 'model.onnx'), { externalData: true, externalThreshold: 0 });
    const model = loadModel(join(src, 'model.onnx'));
    const [first, second] = model.graph.initializers.map((v) => v.initializer!.external!);
    expect(second!.offset).toBeGreaterThan(first!.offset);
    // The first tensor stays readable, the second now runs past the end of the file: the failure comes after
    // the new side file has been opened and written to.
    truncateSync(join(src, 'model.onnx.data'), first!.offset + first!.length);

    const out = join(dir, 'out1');
    mkdirSync(out);
    expect(() => saveModel(model, join(out, 'model.onnx'), { externalData: true, externalThreshold: 0 })).toThrow(UserError);
    expect(listing(out)).toEqual([]);
  });

  it('a failure at the final rename leaves no temp file', () => {
    const out = join(dir, 'out2');
    mkdirSync(join(out, 'taken.onnx'), { recursive: true });
    writeFileSync(join(out, 'taken.onnx', 'keep'), 'x');
    expect(() => saveModel(decodeModel(smallConvNet()), join(out, 'taken.onnx'))).toThrow(/EISDIR|ENOTEMPTY/);
    expect(listing(out)).toEqual(['taken.onnx']);
    expect(listing(join(out, 'taken.onnx'))).toEqual(['keep']);
  });

  it('a successful save replaces an existing file in one step and leaves no temp file', () => {
    const out = join(dir, 'out3');
    mkdirSync(out);
    writeFileSync(join(out, 'model.onnx'), 'old contents');
    saveModel(decodeModel(smallConvNet()), join(out, 'model.onnx'));
    expect(listing(out)).toEqual(['model.onnx']);
    expect(loadModel(join(out, 'model.onnx')).graph.nodes).toHaveLength(5);
  });
});
