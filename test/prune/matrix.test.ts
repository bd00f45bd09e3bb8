/**
 * Every fixture × scope with eigenvector centrality, and every criterion on a representative subset: the pruned model
 * runs in onnxruntime with the original's output names and shapes, params and MACs do not grow, each group removes
 * ⌊p·n⌋ units (or fewer where a nonEmpty set forced one back), the removed units are the lowest-scoring, and the
 * written models pass Debian python3-onnx's full checker with the parameter counts python-onnx finds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CentralityPruneOptions } from '../../src/passes/centralityPrune.js';
import { releaseGramSessions } from '../../src/passes/scoring/index.js';
import { fixtureBytes, fixtureFeeds, floats, itWith, MANIFEST, onnxCheck, runOrt, runPython, tempDir } from '../support/index.js';
import { documentedKept, expectKeptCounts, expectPartition, expectRankedRemoval, prune } from './helpers.js';

const SUBSET = ['mlp', 'cnn_small', 'resnet18', 'mobilenet_v2', 'vit', 'bert', 'mlp_fp16'];
const BASELINES = ['degree', 'l1', 'l2', 'random'] as const;
const RATIO = 0.3;

interface Case { name: string; opts: Partial<CentralityPruneOptions> }
const cases: Case[] = [
  ...Object.keys(MANIFEST).flatMap((name) => (['dense', 'conv', 'all'] as const).map((scope) => ({ name, opts: { scope, method: 'eigenvector' as const } }))),
  ...SUBSET.filter((n) => MANIFEST[n]).flatMap((name) => BASELINES.map((method) => ({ name, opts: { scope: 'all' as const, method } }))),
];

const written: { label: string; bytes: Uint8Array; params: number }[] = [];
let repairedGroups = 0;
afterAll(releaseGramSessions);

describe.each(cases)('$name --scope $opts.scope --method $opts.method', ({ name, opts }) => {
  it('prunes to a smaller model that runs with the same output shapes, removing ⌊p·n⌋ of each group', async () => {
    const bytes = fixtureBytes(name);
    const { pruned, report, groups } = await prune(bytes, { ...opts, ratio: RATIO });

    expect(report.params.after).toBeLessThanOrEqual(report.params.before);
    expect(report.macs.after).toBeLessThanOrEqual(report.macs.before);
    const pruning = report.groups.filter((g) => g.removed.length > 0);
    if (pruning.length) expect(report.params.after).toBeLessThan(report.params.before);
    else expect(pruned).toEqual(bytes); // nothing in scope: the model comes back unchanged

    for (const g of report.groups) {
      expectPartition(g);
      const inScope = opts.scope === 'all' || groups[g.id]!.kind === opts.scope;
      if (groups[g.id]!.prunable && !inScope) expect(g.declined).toMatch(/out of scope/);
      if (!g.declined) expectRankedRemoval(g);
    }
    repairedGroups += expectKeptCounts(report, groups, (g) => documentedKept(g.channels, RATIO));

    const feeds = fixtureFeeds(name, bytes);
    const [before, after] = await Promise.all([runOrt(bytes, feeds), runOrt(pruned, feeds)]);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const k of Object.keys(before)) {
      expect(after[k]!.dims, `output ${k}`).toEqual(before[k]!.dims);
      expect(after[k]!.type, `output ${k}`).toBe(before[k]!.type);
      if (after[k]!.type === 'float32') expect(floats(after[k]!).every(Number.isFinite), `output ${k} finite`).toBe(true);
    }
    if (pruning.length) written.push({ label: `${name} ${opts.scope} ${opts.method}`, bytes: pruned, params: report.params.after });
  });
});

/** The corners: almost everything removed; a sparse τ = 0.8 graph (components, per-component fallback) scored the other way. */
const EXTREMES: Partial<CentralityPruneOptions>[] = [
  { scope: 'all', ratio: 0.99 },
  { scope: 'all', ratio: 0.5, threshold: 0.8, keep: 'peripheral', coupling: 'average', weighted: false },
];

describe.each(Object.keys(MANIFEST))('%s at the extremes', (name) => {
  it.each(EXTREMES)('%o still runs with the same output shapes', async (opts) => {
    const bytes = fixtureBytes(name);
    const { pruned, report, groups } = await prune(bytes, opts);
    expectKeptCounts(report, groups, (g) => documentedKept(g.channels, opts.ratio!));
    // (Where a nonEmpty set was emptied, the repair keeps a lower-ranked unit: checked in its own block below.)
    for (const g of report.groups.filter((x) => !x.declined && !groups[x.id]!.nonEmpty.length)) expectRankedRemoval(g, opts.keep);
    const feeds = fixtureFeeds(name, bytes);
    const [before, after] = await Promise.all([runOrt(bytes, feeds), runOrt(pruned, feeds)]);
    for (const k of Object.keys(before)) {
      expect(after[k]!.dims, `output ${k}`).toEqual(before[k]!.dims);
      if (after[k]!.type === 'float32') expect(floats(after[k]!).every(Number.isFinite), `output ${k} finite`).toBe(true);
    }
  });
});

describe('the written models', () => {
  const dir = tempDir('prune-matrix');

  itWith(['onnx'], 'pass the Debian python3-onnx full checker', () => {
    expect(written.length).toBeGreaterThan(cases.length / 2);
    const errors = onnxCheck(written.map((w) => w.bytes), { full: true });
    expect(Object.fromEntries(written.map((w, i) => [w.label, errors[i]]))).toEqual(Object.fromEntries(written.map((w) => [w.label, null])));
  });

  itWith(['onnx', 'numpy'], 'hold the parameter counts the report gives, as python-onnx counts them', () => {
    const paths = written.map((w, i) => {
      const p = join(dir, `m${i}.onnx`);
      writeFileSync(p, w.bytes);
      return p;
    });
    const counted = runPython<Record<string, { params: number }>>('params_reference.py', paths);
    expect(written.map((w, i) => [w.label, counted[paths[i]!]!.params])).toEqual(written.map((w) => [w.label, w.params]));
  });

  it('needed no nonEmpty repair at p = 0.3 (the next block covers it)', () => {
    expect(repairedGroups).toBe(0);
  });
});

describe('the nonEmpty repair (shufflenet_v2: channel-split halves must each keep a unit)', () => {
  it.each(['eigenvector', 'l2'] as const)('at p = 0.9 puts back the best unit of an emptied half (%s), and the model runs', async (method) => {
    const name = 'shufflenet_v2';
    const bytes = fixtureBytes(name);
    const { pruned, report, groups } = await prune(bytes, { scope: 'all', method, ratio: 0.9 });
    expect(expectKeptCounts(report, groups, (g) => documentedKept(g.channels, 0.9))).toBeGreaterThan(0);
    for (const g of report.groups) {
      const kept = new Set(g.kept);
      for (const set of groups[g.id]!.nonEmpty) {
        const alive = set.filter((u) => kept.has(u));
        if (alive.length !== 1) continue;
        const best = Math.max(...set.map((u) => g.scores![u]!));
        expect(g.scores![alive[0]!], `group ${g.id}: the unit put back is not the best of its set`).toBe(best);
      }
    }
    const feeds = fixtureFeeds(name, bytes);
    const out = await runOrt(pruned, feeds);
    expect(Object.values(out)[0]!.dims).toEqual([1, 10]);
  });
});
