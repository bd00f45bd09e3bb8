import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/ir/errors.js';
import { loadDataset, readNpy } from '../../src/runtime/data/index.js';
import { describeWith, runPython, tempDir } from '../support/index.js';

interface NpyCase { shape: number[]; values: number[]; descr: string }

const dir = tempDir('npy');
let cases: Record<string, NpyCase>;

describeWith(['numpy'], 'against arrays numpy wrote', () => {
  beforeAll(() => {
    cases = runPython<Record<string, NpyCase>>('npy_cases.py', [dir]);
  });

  describe('.npy reader against arrays numpy wrote', () => {
    for (const dtype of ['f4', 'f8', 'i8', 'i4', 'u1', 'f2', 'i2', 'v2']) {
      it(`reads ${dtype}`, () => {
        const a = readNpy(`${dir}/${dtype}.npy`);
        expect(a.shape).toEqual(cases[dtype]!.shape);
        expect(Array.from(a.data, Number)).toEqual(cases[dtype]!.values);
      });
    }

    it('refuses Fortran order, object arrays, big-endian and record dtypes with one clear line', () => {
      const refusal = (name: string): string => {
        try {
          readNpy(`${dir}/${name}.npy`);
        } catch (e) {
          expect(e).toBeInstanceOf(UserError);
          return (e as Error).message;
        }
        throw new Error(`${name} was accepted`);
      };
      expect(refusal('fortran')).toMatch(/Fortran order.*ascontiguousarray/);
      expect(refusal('object')).toMatch(/Python objects/);
      expect(refusal('bigendian')).toMatch(/big-endian/);
      expect(refusal('structured')).toMatch(/structured/);
      for (const m of ['fortran', 'object', 'bigendian', 'structured'].map(refusal)) expect(m).not.toContain('\n');
    });
  });

  describe('.npy datasets', () => {
    it('keeps a float array as it is (no 255 scaling), labels from <name>_labels.npy', async () => {
      const ds = await loadDataset(`${dir}/nchw.npy`);
      expect(ds.shape).toEqual([4, 3, 5, 6]);
      expect(Array.from(ds.x)).toEqual(cases.nchw!.values.map(Math.fround));
      expect(Array.from(ds.labels!)).toEqual([3, 1, 0, 3]);
      expect(ds.numClasses).toBe(4);
    });

    it('reads channels-last images into NCHW, and NCHW ones into NHWC', async () => {
      const fromNhwc = await loadDataset(`${dir}/nhwc.npy`);
      const nchw = await loadDataset(`${dir}/nchw.npy`);
      expect(fromNhwc.shape).toEqual([4, 3, 5, 6]);
      expect(fromNhwc.x).toEqual(nchw.x);
      const asNhwc = await loadDataset(`${dir}/nchw.npy`, { layout: 'nhwc' });
      const raw = await loadDataset(`${dir}/nhwc.npy`, { layout: 'nhwc' });
      expect(asNhwc.shape).toEqual([4, 5, 6, 3]);
      expect(asNhwc.x).toEqual(raw.x);
    });

    it('applies scale, mean and std per channel', async () => {
      const ds = await loadDataset(`${dir}/nchw.npy`, { scale: 2, mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] });
      const plane = 5 * 6;
      const v = cases.nchw!.values;
      for (const [c, m, s] of [[0, 0.1, 0.5], [1, 0.2, 0.25], [2, 0.3, 2]] as const) {
        const i = c * plane + 7;
        expect(ds.x[i]).toBeCloseTo((Math.fround(v[i]!) / 2 - m) / s, 5);
      }
    });

    describeWith(['torch'], 'resized by torch', () => {
      let resized: Record<string, number[]>;
      beforeAll(() => {
        resized = runPython<Record<string, number[]>>('resize_oracle.py', [dir]);
      });

      it('resizes 8-bit grey images as torch bilinear interpolation does (up and down)', async () => {
        for (const [key, size] of [['32x32', [32, 32]], ['14x20', [14, 20]]] as const) {
          const ds = await loadDataset(`${dir}/gray.npy`, { size: [...size], scale: 1 });
          expect(ds.shape).toEqual([3, 1, ...size]);
          const want = resized[key]!;
          const worst = Array.from(ds.x).reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
          expect(worst).toBeLessThan(1e-3);
        }
      });
    });

    it('rejects float labels, label count mismatches and non-image resizing', async () => {
      await expect(loadDataset(`${dir}/nchw.npy`, { labels: `${dir}/float_labels.npy` })).rejects.toThrow(/integer array/);
      await expect(loadDataset(`${dir}/u1.npy`, { labels: `${dir}/nchw_labels.npy` })).rejects.toThrow(/4 labels for 3 samples/);
      await expect(loadDataset(`${dir}/f4.npy`, { size: [2, 2] })).rejects.toThrow(/not images/);
      await expect(loadDataset(`${dir}/missing.npy`)).rejects.toThrow(UserError);
    });

    it('scales uint8 arrays by 255 by default', async () => {
      const ds = await loadDataset(`${dir}/u1.npy`);
      expect(ds.shape).toEqual([3, 4]);
      expect(Array.from(ds.x)).toEqual(cases.u1!.values.map((v) => Math.fround(v / 255)));
    });
  });
});
