/**
 * `prune --calib` as users run it (the built CLI: `npm run build` first when running this file alone): the report's
 * calibration fields and their schema check, the compensation switch, the provisional default criterion, a decoder
 * LM calibrated from token windows, and the refusals.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/ir/save.js';
import { parseSavedReport, type SavedReport } from '../../src/report/schema.js';
import { DECODER_FIXTURES } from '../decoders/helpers.js';
import { ortSession, runCli, tempDir } from '../support/index.js';
import { writeSamples, writeTokenWindows } from './helpers.js';
import { mlp } from './models.js';

const dir = tempDir('calib-cli');
const model = join(dir, 'mlp.onnx');
const data = join(dir, 'mlp-data.npy');
beforeAll(() => {
  writeFileSync(model, encodeModel(mlp().model));
  writeSamples(dir, 'mlp-data', 50, [12], 1);
});

/** Runs prune expecting success; returns the saved report (checked by the report schema). */
function prune(out: string, flags: string[]): SavedReport {
  const report = join(dir, `${out}.json`);
  const r = runCli([model, '-o', join(dir, out), '--report', report, '--ep', 'cpu', '-q', ...flags]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return parseSavedReport(JSON.parse(readFileSync(report, 'utf8')), report);
}

describe('prune --calib', () => {
  it('reports liveness per unit, the calibration run and the compensation; the default with --calib is flap with compensation', () => {
    const r = prune('default.onnx', ['--calib', data, '--calib-samples', '40']);
    expect(r.method).toBe('flap');
    expect(r.options.compensate).toBe(true);
    expect(r.calibration).toMatchObject({ samples: 40, ep: 'cpu' });
    expect(r.calibration!.source).toContain('mlp-data.npy');
    const g = r.groups.find((x) => !x.declined)!;
    expect(g.calibration!.samples).toBe(40);
    expect(g.calibration!.activeFraction.slice(0, 4)).toEqual([0, 0, 0, 0]); // the dead units of models.ts
    expect(g.compensation).toEqual({ consumers: 1 });
  });

  it('compensation is on by default with flap only; --compensate asks for it with another criterion', () => {
    const wanda = prune('wanda-default.onnx', ['--calib', data, '--method', 'wanda']);
    expect(wanda.options.compensate).toBe(false);
    expect(wanda.groups.find((x) => !x.declined)!.compensation).toBeUndefined();
    const l2 = prune('l2-compensated.onnx', ['--calib', data, '--method', 'l2', '--compensate']);
    expect(l2.options.compensate).toBe(true);
    expect(l2.groups.find((x) => !x.declined)!.compensation).toEqual({ consumers: 1 });
    expect(prune('flap-plain.onnx', ['--calib', data, '--no-compensate']).options.compensate).toBe(false);
  });

  it('--no-compensate and every calibrated criterion', () => {
    for (const method of ['wanda', 'activation-eigenvector', 'live-eigenvector', 'eigenvector']) {
      const r = prune(`${method}.onnx`, ['--calib', data, '--method', method, '--no-compensate']);
      expect(r.method).toBe(method);
      expect(r.options.compensate).toBe(false);
      const g = r.groups.find((x) => !x.declined)!;
      expect(g.method).toBe(method);
      expect(g.compensation).toBeUndefined();
      expect(g.calibration!.samples).toBe(50);
    }
  });

  it('without --calib: no calibration fields, and the default stays eigenvector', () => {
    const r = prune('plain.onnx', []);
    expect(r.method).toBe('eigenvector');
    expect(r.calibration).toBeUndefined();
    expect(r.options.compensate).toBeUndefined();
    expect(r.groups.every((g) => !g.calibration && !g.compensation)).toBe(true);
  });

  it('calibrates a decoder LM from token windows (.npy of ids): heads removed uniformly, FFN neurons and the hidden size, every consumer compensated', async () => {
    const f = DECODER_FIXTURES.find((x) => x.name === 'llama_cache')!;
    const ids = writeTokenWindows(join(dir, 'ids.npy'), 6, 20, f.config.vocab, 3);
    const out = join(dir, 'llama.onnx');
    const report = join(dir, 'llama.json');
    const run = runCli([f.path, '-o', out, '--report', report, '--calib', ids, '--method', 'wanda', '--compensate', '--ratio', '0.5', '--round-to', '1', '--ep', 'cpu', '-q']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const saved = parseSavedReport(JSON.parse(readFileSync(report, 'utf8')), report);
    const pruned = saved.groups.filter((g) => !g.declined);
    const ffn = pruned.filter((g) => g.producers.some((p) => p.includes('gate_proj')));
    const heads = pruned.filter((g) => g.producers.some((p) => p.includes('q_proj')));
    expect(ffn).toHaveLength(f.config.layers);
    expect(heads).toHaveLength(f.config.layers);
    for (const g of pruned) {
      expect(g.method).toBe('wanda');
      expect(g.calibration!.samples).toBe(6);
      expect(g.compensation!.consumers).toBeGreaterThan(0);
    }
    for (const g of ffn) {
      expect(g.removed).toHaveLength(Math.floor(0.5 * g.channels));
      expect(g.compensation).toEqual({ consumers: 1 }); // the down projection
    }
    for (const g of heads) {
      expect(g.removed).toHaveLength(1); // one of the two KV groups, in every layer
      expect(g.compensation).toEqual({ consumers: 1 }); // the output projection
    }
    expect(saved.decoder).toMatchObject({ uniformHeads: true, sizes: { numKeyValueHeads: { before: 2, after: 1 } } });
    const session = await ortSession(out);
    expect(session.inputNames).toContain('past_key_values.0.key');
    await session.release();
    const evaluated = runCli(['evaluate', out, '--data', ids, '--ep', 'cpu', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect((JSON.parse(evaluated.stdout) as { perplexity: { nll: number } }).perplexity.nll).toBeGreaterThan(0);
  });

  it('refuses criteria that need calibration without --calib, --compensate without it, and text for a non-byte vocabulary', () => {
    const txt = join(dir, 'text.txt');
    writeFileSync(txt, 'plain words\n'.repeat(40));
    const llama = DECODER_FIXTURES.find((x) => x.name === 'llama')!.path;
    const cases: [string[], RegExp][] = [
      [[model, '-o', join(dir, 'x.onnx'), '--method', 'wanda'], /--method wanda needs calibration data: give --calib/],
      [[model, '-o', join(dir, 'x.onnx'), '--method', 'activation-eigenvector'], /needs calibration data/],
      [[model, '-o', join(dir, 'x.onnx'), '--compensate'], /--compensate needs calibration data/],
      [[llama, '-o', join(dir, 'x.onnx'), '--calib', txt], /vocabulary has 128 tokens, not the 256 bytes/],
      [[model, '-o', join(dir, 'x.onnx'), '--calib', join(dir, 'missing.npy')], /the --calib source '.*missing\.npy' does not exist/],
      [[model, '-o', data, '--calib', data], /the output model '.*mlp-data\.npy' is the --calib source .*refusing to overwrite it/],
    ];
    for (const [args, message] of cases) {
      const r = runCli([...args, '--ep', 'cpu']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
