/**
 * The pruning policies, each checked against its documented rule on the fixtures: --layers / --exclude (globs and
 * /regex/ over node names), --layer-ratios (both JSON forms, through the CLI), --global, --round-to, --min-channels,
 * --target-macs / --target-params, --keep peripheral, --method random with --seed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChannelGroup } from '../../src/passes/dependency/groups.js';
import { releaseGramSessions } from '../../src/passes/scoring/index.js';
import { fixtureBytes, fixtureFeeds, fixturePath, runCli, runOrt, tempDir } from '../support/index.js';
import { documentedKept, expectKeptCounts, expectRankedRemoval, prune, type GroupReport, type PruneReport } from './helpers.js';

const dir = tempDir('prune-policies');
afterAll(releaseGramSessions);

const names = (g: ChannelGroup): string[] => g.producers.map((n) => n.name);
const byId = (r: PruneReport) => (id: number): GroupReport => r.groups[id]!;

describe('--layers / --exclude', () => {
  const bytes = fixtureBytes('resnet18');
  /** Which prunable conv groups end up pruned, and what the others say (residual streams pruned too: all are candidates). */
  async function selection(opts: { layers?: string[]; exclude?: string[] }) {
    const { report, groups } = await prune(bytes, { scope: 'conv', pruneResidual: true, ...opts });
    const prunable = groups.filter((g) => g.prunable);
    return { report, prunable, pruned: prunable.filter((g) => !report.groups[g.id]!.declined) };
  }

  it.each([
    ['a glob', ['*layer2*'], (n: string) => n.includes('layer2')],
    ['a /regex/', ['/layer[34]\\.1\\/conv1/'], (n: string) => /layer[34]\.1\/conv1/.test(n)],
    ['a case-insensitive /regex/i and a glob', ['/LAYER4/i', '/conv1/*'], (n: string) => n.includes('layer4') || n.startsWith('/conv1/')],
  ])('--layers with %s selects the groups whose producers match; the others say why', async (_, layers, matches) => {
    const { report, prunable, pruned } = await selection({ layers });
    const expected = prunable.filter((g) => names(g).some(matches));
    expect(expected.length).toBeGreaterThan(0);
    expect(pruned.map((g) => g.id)).toEqual(expected.map((g) => g.id));
    for (const g of prunable.filter((x) => !expected.includes(x))) {
      expect(report.groups[g.id]!.declined).toBe('not selected by --layers');
      expect(report.groups[g.id]!.removed).toEqual([]);
    }
    for (const g of expected) expect(report.groups[g.id]!.removed.length).toBe(Math.floor(0.3 * g.channels));
  });

  it('--exclude leaves out every group one of whose producers matches, with its reason', async () => {
    const { report, prunable, pruned } = await selection({ exclude: ['*downsample*'] });
    const excluded = prunable.filter((g) => names(g).some((n) => n.includes('downsample')));
    expect(excluded).toHaveLength(3);
    expect(pruned).toEqual(prunable.filter((g) => !excluded.includes(g)));
    for (const g of excluded) expect(report.groups[g.id]!.declined).toBe('excluded by --exclude');
  });

  it('--layers and --exclude together: selected and not excluded', async () => {
    const { pruned } = await selection({ layers: ['/layer3/'], exclude: ['/downsample/'] });
    expect(pruned.map((g) => names(g))).toEqual([['/layer3/layer3.0/conv1/Conv'], ['/layer3/layer3.1/conv1/Conv']]);
  });

  it('the declined head keeps its own reason whatever the patterns say', async () => {
    const { report } = await selection({ layers: ['*'] });
    expect(report.groups.at(-1)!.declined).toMatch(/reach the graph output 'logits'/);
  });
});

describe('--layer-ratios (CLI)', () => {
  /** Runs the CLI with this JSON config; returns the report. */
  function withConfig(config: unknown, flags: string[]): PruneReport {
    const file = join(dir, `ratios-${flags.join('')}.json`);
    const report = join(dir, 'ratios-report.json');
    writeFileSync(file, JSON.stringify(config));
    const r = runCli([fixturePath('resnet18'), '-o', join(dir, 'ratios.onnx'), '--scope', 'conv', '--layer-ratios', file, '--report', report, '-q', '--round-to', '1', '--prune-residual', ...flags]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(readFileSync(report, 'utf8')) as PruneReport;
  }
  const resnetGroups = async () => (await prune(fixtureBytes('resnet18'), { ratio: 0 })).groups;

  it('{"pattern": ratio}: the first matching pattern sets a group\'s ratio, --ratio the rest', async () => {
    const r = withConfig({ '*layer1*': 0.5, '/layer4\\.0/': 0.1, '/conv1/Conv': 0.7 }, ['--ratio', '0.2']);
    const gs = await resnetGroups();
    for (const g of gs.filter((x) => x.prunable)) {
      const ns = names(g);
      const ratio = ns.some((n) => n.includes('layer1')) ? 0.5 : ns.some((n) => n.includes('layer4.0')) ? 0.1 : ns.includes('/conv1/Conv') ? 0.7 : 0.2;
      expect(byId(r)(g.id).removed.length, ns.join('+')).toBe(Math.floor(ratio * g.channels + 1e-9));
    }
    // The stem group is coupled to layer1's convs, so the earlier '*layer1*' wins over '/conv1/Conv'.
    expect(byId(r)(0).removed.length).toBe(Math.floor(0.5 * 8));
  });

  it('{"default": r, "layers": {...}}: the default replaces --ratio', async () => {
    const r = withConfig({ default: 0.4, layers: { '*.1/conv1/Conv': 0.6 } }, ['--ratio', '0.1']);
    const gs = await resnetGroups();
    let matched = 0;
    for (const g of gs.filter((x) => x.prunable)) {
      const hit = names(g).some((n) => /\.1\/conv1\/Conv$/.test(n));
      matched += hit ? 1 : 0;
      expect(byId(r)(g.id).removed.length).toBe(Math.floor((hit ? 0.6 : 0.4) * g.channels + 1e-9));
    }
    expect(matched).toBe(4);
  });
});

describe('--global', () => {
  const bytes = fixtureBytes('resnet18');
  const normalised = (g: GroupReport): number[] => {
    const mean = g.scores!.reduce((a, b) => a + b, 0) / g.channels;
    return g.scores!.map((s) => (mean > 0 ? s / mean : 1));
  };

  it.each([
    ['eigenvector', 0.3, 1],
    ['l1', 0.4, 4],
    ['eigenvector', 0.9, 6], // the floors bind
  ] as const)('%s p=%d min-channels %d: ⌊p·N⌋ overall (fewer only where floors bind), lowest normalised scores first', async (method, ratio, minChannels) => {
    const { report } = await prune(bytes, { scope: 'conv', global: true, method, ratio, minChannels });
    const live = report.groups.filter((g) => !g.declined);
    const total = live.reduce((s, g) => s + g.channels, 0);
    const removable = live.reduce((s, g) => s + Math.max(0, g.channels - Math.max(1, minChannels)), 0);
    expect(live.reduce((s, g) => s + g.removed.length, 0)).toBe(Math.min(Math.floor(ratio * total), removable));
    for (const g of live) expect(g.kept.length).toBeGreaterThanOrEqual(Math.min(g.channels, minChannels));
    // Not one per-group ratio: groups lose different fractions.
    expect(new Set(live.map((g) => (g.removed.length / g.channels).toFixed(3))).size).toBeGreaterThan(1);
    // Every removed unit scores (divided by its group's mean) no higher than any kept unit of a group above its floor.
    const removedMax = Math.max(...live.flatMap((g) => g.removed.map((i) => normalised(g)[i]!)));
    const keptMin = Math.min(...live.filter((g) => g.kept.length > Math.max(1, minChannels)).flatMap((g) => g.kept.map((i) => normalised(g)[i]!)));
    expect(removedMax).toBeLessThanOrEqual(keptMin * (1 + 1e-6));
  });
});

describe('--round-to / --min-channels', () => {
  it.each([
    ['vgg11', 8, 1, 0.3],
    ['resnet18', 8, 1, 0.5],
    ['mobilenet_v2', 4, 1, 0.3],
    ['resnet18', 1, 10, 0.9],
    ['vit', 1, 5, 0.9],
    ['resnet18', 8, 10, 0.9],
  ] as const)('%s --round-to %d --min-channels %d --ratio %d', async (name, roundTo, minChannels, ratio) => {
    const bytes = fixtureBytes(name);
    const { pruned, report, groups } = await prune(bytes, { scope: 'all', roundTo, minChannels, ratio });
    expectKeptCounts(report, groups, (g) => documentedKept(g.channels, ratio, roundTo, minChannels));
    for (const g of report.groups.filter((x) => !x.declined)) {
      // A multiple of roundTo, or the full width, or exact when no multiple lies between the floor and the width.
      const noMultiple = Math.ceil(Math.max(1, minChannels) / roundTo) * roundTo >= g.channels;
      expect(g.kept.length % roundTo === 0 || g.kept.length === g.channels || noMultiple, `${g.producers[0]} keeps ${g.kept.length}`).toBe(true);
      expect(g.kept.length).toBeGreaterThanOrEqual(Math.min(minChannels, g.channels));
      expectRankedRemoval(g);
    }
    const out = await runOrt(pruned, fixtureFeeds(name, bytes));
    expect(Object.values(out)[0]!.dims).toEqual([1, 10]);
  });
});

describe('--target-macs / --target-params', () => {
  /** The search bisects [0, 0.95] 12 times: one step below the chosen ratio must miss the target. */
  const STEP = 0.95 / 2 ** 12;
  const reached: string[] = [];
  afterAll(() => console.log(`target 0.5 reached: ${reached.join(', ')}`));

  it.each([
    ['resnet18', 'conv', 'targetMacs'],
    ['resnet18', 'conv', 'targetParams'],
    ['vgg11', 'all', 'targetMacs'],
    ['mobilenet_v2', 'all', 'targetParams'],
    ['bert', 'dense', 'targetMacs'],
    ['mlp', 'dense', 'targetParams'],
  ] as const)('%s --scope %s --%s 0.5 reaches at most the target with the smallest ratio that does', async (name, scope, which) => {
    const bytes = fixtureBytes(name);
    const measure = which === 'targetMacs' ? 'macs' : 'params';
    const { report, groups } = await prune(bytes, { scope, pruneResidual: true, [which]: 0.5 });
    const { before, after } = report[measure];
    expect(after).toBeLessThanOrEqual(0.5 * before);
    expect(report.target).toEqual({ measure, fraction: 0.5, reached: after / before, met: true });
    // The report's ratio is the one applied: each group removed ⌊ratio·n⌋.
    expectKeptCounts(report, groups, (g) => documentedKept(g.channels, report.ratio));
    const less = await prune(bytes, { scope, pruneResidual: true, ratio: report.ratio - STEP });
    expect(less.report[measure].after).toBeGreaterThan(0.5 * before);
    expect(after / before).toBeGreaterThan(0.4);
    reached.push(`${name} ${measure} ${(after / before).toFixed(3)} (p=${report.ratio.toFixed(3)})`);
  });

  it('an unreachable target prunes as far as the search goes and says it was not met (CLI: one warning line)', async () => {
    const { report } = await prune(fixtureBytes('vit'), { scope: 'dense', targetParams: 0.5 });
    expect(report.ratio).toBe(0.95);
    expect(report.target!.met).toBe(false);
    expect(report.target!.reached).toBeGreaterThan(0.5);
    const r = runCli([fixturePath('vit'), '-o', join(dir, 'vit.onnx'), '--target-params', '0.5', '-q']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^onnx-cprune: warning: --target-params 0.5 is out of reach: .* leaves 51\.\d% of the params\n$/);
  });
});

describe('--keep peripheral', () => {
  it.each(['cnn_small', 'resnet18'])('%s: removes the highest scores instead of the lowest', async (name) => {
    const bytes = fixtureBytes(name);
    const central = (await prune(bytes, { scope: 'all' })).report;
    const { report, groups } = await prune(bytes, { scope: 'all', keep: 'peripheral' });
    expectKeptCounts(report, groups, (g) => documentedKept(g.channels, 0.3));
    let differs = 0;
    for (const g of report.groups.filter((x) => !x.declined)) {
      expectRankedRemoval(g, 'peripheral');
      expect(g.scores).toEqual(central.groups[g.id]!.scores); // same scores, other end removed
      if (g.removed.join() !== central.groups[g.id]!.removed.join()) differs++;
    }
    expect(differs).toBeGreaterThan(0);
  });
});

describe('--method random --seed', () => {
  const bytes = fixtureBytes('resnet18');
  const kept = async (seed: number) => (await prune(bytes, { scope: 'conv', method: 'random', seed })).report.groups.map((g) => g.kept);

  it('the same seed gives the same kept sets, other seeds other ones', async () => {
    const [a, b, c] = await Promise.all([kept(1), kept(1), kept(2)]);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect((await kept(0))).not.toEqual(a);
  });

  it('scores are uniform in [0, 1) and the removal follows them', async () => {
    const { report } = await prune(bytes, { scope: 'conv', method: 'random', seed: 5 });
    for (const g of report.groups.filter((x) => !x.declined)) {
      expect(g.scores!.every((s) => s >= 0 && s < 1)).toBe(true);
      expectRankedRemoval(g);
    }
  });
});
