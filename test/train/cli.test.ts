import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alsoWith, describeWith, FASHION_MNIST as FASHION, fixturePath, onnxCheck, runCli, tempDir } from '../support/index.js';

/** `onnx-cprune finetune` as users run it (the built CLI: `npm run build` first when running this file alone). */
const MLP = fixturePath('mlp');
const dir = tempDir('finetune-cli');

describeWith(['fashion-mnist'], 'onnx-cprune finetune', () => {
  it('writes a model the onnx checker accepts and reports the run', () => {
    const out = join(dir, 'tuned.onnx');
    const r = runCli(['finetune', MLP, '--data', FASHION, '--limit', '300', '-o', out, '--train', 'dense', '--new-head', '10',
      '--epochs', '2', '--lr', '0.01', '--backend', 'wasm', '--ep', 'cpu', '--json', '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { trained: string[]; history: unknown[]; bestEpoch: number; samples: { train: number; val: number } };
    expect(report.trained).toHaveLength(6);
    expect(report.history).toHaveLength(2);
    expect(report.samples).toEqual({ train: 270, val: 30 });
    alsoWith(['onnx'], () => expect(onnxCheck([out])).toEqual([null]));
  });

  it('exits 2 with one line for labels the classifier cannot express, writing nothing', () => {
    const out = join(dir, 'never.onnx');
    const r = runCli(['finetune', MLP, '--data', FASHION, '--limit', '50', '-o', out, '--new-head', '3', '--backend', 'wasm', '--ep', 'cpu', '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/outputs 3 classes: use --new-head \d+/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('onnx-cprune finetune without data', () => {
  it('exits 2 when the data source does not exist', () => {
    const r = runCli(['finetune', MLP, '--data', join(dir, 'nothing'), '-o', join(dir, 'x.onnx'), '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist/);
  });
});
