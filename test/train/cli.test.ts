import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/runCli.js';
import { checkModels, pythonHas } from '../io/python.js';

/** `onnx-cprune finetune` as users run it (the built CLI: `npm run build` first when running this file alone). */
const FASHION = '/usr/share/datasets/fashion-mnist';
const MLP = join(import.meta.dirname, '../../fixtures/models/mlp.onnx');
const dir = mkdtempSync(join(tmpdir(), 'finetune-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync(FASHION))('onnx-cprune finetune', () => {
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
    if (pythonHas('onnx')) expect(checkModels([out])[out]).toBe('ok');
  });

  it('exits 2 with one line for labels the classifier cannot express, writing nothing', () => {
    const out = join(dir, 'never.onnx');
    const r = runCli(['finetune', MLP, '--data', FASHION, '--limit', '50', '-o', out, '--new-head', '3', '--backend', 'wasm', '--ep', 'cpu', '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/outputs 3 classes: use --new-head \d+/);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 when the data source does not exist', () => {
    const r = runCli(['finetune', MLP, '--data', join(dir, 'nothing'), '-o', join(dir, 'x.onnx'), '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist/);
  });
});
