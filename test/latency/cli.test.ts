/**
 * The latency options through the built CLI (`npm run build` first when running this file alone): the report's
 * rounding line and per-group removed fractions, `--round-to 1`, and `--target-latency` end to end on a small model
 * with the lookup table in a temporary folder. Timings are not asserted (they belong to bench/latency.ts): only
 * that every figure is reported and consistent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PruneReport } from '../prune/helpers.js';
import { fixturePath, runCli, tempDir } from '../support/index.js';
import { autoRoundMultiple } from '../../src/passes/policy/rounding.js';
import { cpuFeatures } from '../../src/runtime/hardware.js';

const dir = tempDir('latency-cli');

interface Report extends Omit<PruneReport, 'latencyTarget'> {
  latencyTarget?: NonNullable<PruneReport['latencyTarget']> & { ep: string; batch: number; threads: number; clock: string };
  latency?: { ep: string; threads: number; points: { batch: number; ratio: number; original: { medianMs: number }; pruned: { medianMs: number } }[] };
}

/** Runs the CLI expecting success; stderr must be empty, or (timings vary) the out-of-reach warning. */
function prune(out: string, flags: string[]): { report: Report; stdout: string } {
  const report = join(dir, `${out}.json`);
  const r = runCli([fixturePath('cnn_small'), '-o', join(dir, out), '--report', report, '--scope', 'all', '--ep', 'cpu', ...flags], { hangGuardMs: 240_000 });
  expect(r.stderr).toMatch(/^(onnx-cprune: warning: --target-latency [\d.]+ is out of reach: the closest widths tried measure [\d.]+ of the original's latency \(predicted [\d.]+\)\n)?$/);
  expect(r.code).toBe(0);
  return { report: JSON.parse(readFileSync(report, 'utf8')) as Report, stdout: r.stdout };
}

describe('--round-to', () => {
  it('auto (the default) rounds conv groups to this CPU\'s multiple and says why', () => {
    const { report, stdout } = prune('auto.onnx', []);
    const want = autoRoundMultiple({ ep: 'cpu', cpu: cpuFeatures() });
    expect(report.rounding).toEqual({ multiple: want.multiple, dense: false, reason: `auto: ${want.multiple} (${want.reason})` });
    expect(stdout).toContain(`kept counts rounded: auto: ${want.multiple}`);
    for (const g of report.groups.filter((x) => !x.declined)) {
      expect(g.removedRatio).toBeCloseTo(g.removed.length / g.channels, 12);
      expect(stdout).toContain(`${(100 * g.removedRatio!).toFixed(1)}%`);
      if (g.kind === 'conv' && g.channels > want.multiple) expect(g.kept.length % want.multiple === 0 || g.kept.length === g.channels).toBe(true);
    }
  });

  it('1 keeps exactly n − ⌊p·n⌋ and reports no rounding', () => {
    const { report } = prune('exact.onnx', ['--round-to', '1']);
    expect(report.rounding).toBeUndefined();
    for (const g of report.groups.filter((x) => !x.declined)) expect(g.kept.length).toBe(g.channels - Math.floor(0.3 * g.channels + 1e-9));
  });
});

describe('--target-latency', () => {
  it('reports the table, the prediction, the measurement and the latency before and after', () => {
    const cache = join(dir, 'tables');
    const flags = ['--target-latency', '0.7', '--threads', '1', '--batch', '2', '--latency-cache', cache, '--method', 'l1'];
    const { report, stdout } = prune('target.onnx', flags);
    const t = report.latencyTarget!;
    expect(t).toMatchObject({ fraction: 0.7, ep: 'cpu', batch: 1, threads: 1, clock: 'cpu' });
    expect(t.attempts.length).toBeGreaterThanOrEqual(1);
    expect(t.measured).toBeCloseTo(t.prunedMs / t.originalMs, 12);
    expect(t.met).toBe(t.measured <= t.fraction + 0.02);
    expect(t.table.measured).toBeGreaterThan(0);
    expect(t.table.path).toContain(cache);
    expect(readdirSync(cache)).toEqual([t.table.path!.split('/').pop()]);
    // cnn_small's input fixes the batch at 1: every timing runs at 1, whatever --batch says.
    expect(stdout).toMatch(/latency target 0\.7 of the original on CPU at batch 1: predicted [\d.]+, measured [\d.]+/);
    expect(report.latency!.ep).toBe('cpu');
    expect(report.latency!.threads).toBe(1);
    expect(report.latency!.points.map((p) => p.batch)).toEqual([1]);
    for (const p of report.latency!.points) expect(p.ratio).toBeCloseTo(p.pruned.medianMs / p.original.medianMs, 12);
    expect(stdout).toMatch(/latency on CPU \(1 thread, median of runs, original → pruned\):\n  batch 1 /);
    // The same command again reads every width from the table.
    const again = prune('target2.onnx', flags).report.latencyTarget!;
    expect(again.table.measured).toBe(0);
    expect(again.table.cached).toBe(t.table.measured + t.table.cached);
  });
});
