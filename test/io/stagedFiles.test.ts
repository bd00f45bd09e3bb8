import { linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/ir/errors.js';
import { sameFile, StagedFiles, writeFileAtomically, writeStaged } from '../../src/ir/save.js';
import { tempDir } from '../support/index.js';

/** Outputs written as temporaries and renamed together: all of them appear, or none, and no temporary stays. */

const dir = tempDir('staged');

describe('StagedFiles', () => {
  it('commit puts every staged file in place and leaves no temporary', () => {
    const out = join(dir, 'ok');
    mkdirSync(out);
    const files = new StagedFiles();
    files.write(join(out, 'model.onnx'), new Uint8Array([1, 2, 3]));
    files.write(join(out, 'report.json'), '{}\n');
    expect(readdirSync(out).filter((f) => !f.includes('.tmp-'))).toEqual([]);
    files.commit();
    files.abort(); // after commit: nothing to undo
    expect(readdirSync(out).sort()).toEqual(['model.onnx', 'report.json']);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('{}\n');
  });

  it('a rename that fails removes what the commit had already put in place, and every temporary', () => {
    const out = join(dir, 'fails');
    mkdirSync(join(out, 'report.json'), { recursive: true });
    writeFileSync(join(out, 'report.json', 'keep'), 'x');
    const files = new StagedFiles();
    files.write(join(out, 'model.onnx'), new Uint8Array([1]));
    files.write(join(out, 'report.json'), '{}');
    expect(() => files.commit()).toThrow(UserError);
    files.abort();
    expect(readdirSync(out)).toEqual(['report.json']);
    expect(readdirSync(join(out, 'report.json'))).toEqual(['keep']);
  });

  it('abort before commit removes every temporary, and a write into a missing folder is a UserError', () => {
    const out = join(dir, 'aborted');
    mkdirSync(out);
    const files = new StagedFiles();
    files.write(join(out, 'a.bin'), new Uint8Array(10));
    expect(() => files.write(join(out, 'no', 'b.bin'), 'x')).toThrow(/saving .* failed: ENOENT/);
    files.abort();
    expect(readdirSync(out)).toEqual([]);
  });

  it('writeStaged commits what its callback staged, and removes it all when the callback throws', () => {
    const out = join(dir, 'together');
    mkdirSync(out);
    expect(() => writeStaged((files) => {
      files.write(join(out, 'model.onnx'), new Uint8Array([1]));
      throw new UserError('the page cannot be rendered');
    })).toThrow(/the page cannot be rendered/);
    expect(readdirSync(out)).toEqual([]);
    writeStaged((files) => {
      files.write(join(out, 'model.onnx'), new Uint8Array([1]));
      files.write(join(out, 'page.html'), '<html></html>');
    });
    writeFileAtomically(join(out, 'report.json'), '{}');
    expect(readdirSync(out).sort()).toEqual(['model.onnx', 'page.html', 'report.json']);
  });
});

describe('sameFile', () => {
  it('sees one file through a symbolic link, a hard link, `..`, and a linked folder for a file not yet there', () => {
    const d = join(dir, 'same');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'w.bin'), 'w');
    symlinkSync(join(d, 'w.bin'), join(d, 'soft.bin'));
    symlinkSync(d, join(dir, 'alias'));
    linkSync(join(d, 'w.bin'), join(d, 'hard.bin'));
    expect(sameFile(join(d, 'hard.bin'), join(d, 'w.bin'))).toBe(true);
    expect(sameFile(join(d, 'soft.bin'), join(d, 'w.bin'))).toBe(true);
    expect(sameFile(join(d, 'sub', '..', 'w.bin'), join(d, 'w.bin'))).toBe(true);
    expect(sameFile(join(dir, 'alias', 'new.onnx'), join(d, 'new.onnx'))).toBe(true);
    expect(sameFile(join(d, 'other.bin'), join(d, 'w.bin'))).toBe(false);
  });
});
