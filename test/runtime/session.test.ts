import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/ir/errors.js';
import { probeProvider } from '../../src/runtime/providers.js';
import { openSession } from '../../src/runtime/session.js';
import { describeWith, runCli, runPython, tempDir } from '../support/index.js';

// These cover the machine without CUDA (the CI and development machines); on a CUDA machine they are skipped.
const cudaLoads = (await probeProvider('cuda')).available;

const dir = tempDir('session');

describeWith(['onnx', 'numpy'], 'on the models validate_case.py writes', () => {
  beforeAll(() => {
    runPython('validate_case.py', [dir]);
  });

  describe.skipIf(cudaLoads)('execution provider choice without CUDA', () => {
    it('auto falls back to the CPU with a one-line notice', async () => {
      const s = await openSession(`${dir}/original.onnx`, { ep: 'auto' });
      expect(s.ep).toBe('cpu');
      expect(s.notice).toMatch(/^CUDA execution provider unavailable, running on CPU: .*libonnxruntime_providers_cuda\.so/);
      expect(s.notice).not.toContain('\n');
      const y = await s.session.run({ x: new (await import('onnxruntime-node')).Tensor('float32', new Float32Array(8), [1, 8]) });
      expect(y.logits!.dims).toEqual([1, 5]);
      await s.session.release();
    });

    it('cuda fails with a UserError naming the reason', async () => {
      await expect(openSession(`${dir}/original.onnx`, { ep: 'cuda' })).rejects.toThrow(UserError);
      await expect(openSession(`${dir}/original.onnx`, { ep: 'cuda' })).rejects.toThrow(/--ep cuda: the CUDA execution provider does not load here: .*doctor/);
    });

    it('cpu opens without a notice; a broken model is a UserError', async () => {
      const s = await openSession(`${dir}/original.onnx`, { ep: 'cpu' });
      expect(s.ep).toBe('cpu');
      expect(s.notice).toBeUndefined();
      await s.session.release();
      writeFileSync(`${dir}/broken.onnx`, 'not a model');
      await expect(openSession(`${dir}/broken.onnx`, { ep: 'cpu' })).rejects.toThrow(/onnxruntime cannot load '.*broken\.onnx'/);
    });

    it('CLI: validate --ep cuda exits 2 with one line on stderr', () => {
      const r = runCli(['validate', `${dir}/original.onnx`, `${dir}/scaled.onnx`, '--ep', 'cuda']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^onnx-cprune: --ep cuda: the CUDA execution provider does not load here/);
    });

    it('CLI: validate --ep auto prints only the fallback notice on stderr (no native log lines) and runs on CPU', () => {
      const r = runCli(['validate', `${dir}/original.onnx`, `${dir}/scaled.onnx`, '--data', `${dir}/x.npy`, '--runs', '2', '--json']);
      expect(r.code).toBe(0);
      expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^onnx-cprune: CUDA execution provider unavailable, running on CPU: /)]);
      const report = JSON.parse(r.stdout) as { ep: string; accuracy: { original: number } };
      expect(report.ep).toBe('cpu');
      expect(report.accuracy.original).toBe(0.8);
    });
  });
});

describe.skipIf(cudaLoads)('doctor without CUDA', () => {
  it('CLI: doctor says the CPU provider loads, CUDA does not and why, and how to enable it', () => {
    const r = runCli(['doctor', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const d = JSON.parse(r.stdout) as { node: string; onnxruntime: { version: string }; providers: { name: string; available: boolean; reason?: string }[]; enableCuda: string[]; tfjs: { name: string; available: boolean }[] };
    expect(d.node).toBe(process.version);
    expect(d.onnxruntime.version).toBe('1.29.0');
    expect(d.providers.find((p) => p.name === 'cpu')).toEqual({ name: 'cpu', available: true });
    const cuda = d.providers.find((p) => p.name === 'cuda')!;
    expect(cuda.available).toBe(false);
    expect(cuda.reason).toMatch(/libonnxruntime_providers_cuda\.so/);
    expect(d.enableCuda.join('\n')).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
    expect(d.enableCuda.join('\n')).toMatch(/com\.github\.asus4\.onnxruntime\.linux-x64-gpu@0\.4\.9/);
    expect(d.tfjs.find((b) => b.name === 'cpu')).toEqual({ name: 'cpu', available: true });
    const text = runCli(['doctor']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/execution providers:\n {2}cpu +loads\n {2}cuda +no: /);
  });
});

describe('CLI argument errors', () => {
  it('exit 2 for a bad --ep and for a missing model', () => {
    expect(runCli(['validate', `${dir}/original.onnx`, `${dir}/scaled.onnx`, '--ep', 'gpu']).code).toBe(2);
    const r = runCli(['validate', `${dir}/nope.onnx`, `${dir}/scaled.onnx`, '--ep', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
