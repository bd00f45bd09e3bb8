/**
 * `onnx-cprune prune` as users run it (the built CLI: `npm run build` first when running this file alone): the
 * `--report` JSON's fields, `--ratio 0` as a byte-identical copy, the input never modified, `--validate` and
 * `--finetune` in the same command.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST, fixturePath, itWith, ort, runCli, runOrt, tempDir } from '../support/index.js';
import { expectPartition, type PruneReport } from './helpers.js';

const dir = tempDir('prune-cli');

/** Runs the CLI expecting success with nothing on stderr; returns the parsed report. */
function pruneCli(model: string, out: string, flags: string[]): PruneReport & Record<string, unknown> {
  const report = join(dir, `${out}.json`);
  const r = runCli([fixturePath(model), '-o', join(dir, out), '--report', report, ...flags]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(readFileSync(report, 'utf8')) as PruneReport & Record<string, unknown>;
}

/**
 * The issue's documented fields, plus `scope` (the run's --scope), the other options, the schema version,
 * `rounding` (--round-to auto's multiple, why) and `residualKept` (ResNet-18's residual streams, left at full width).
 */
const TOP_LEVEL = ['input', 'output', 'method', 'ratio', 'threshold', 'params', 'macs', 'timings', 'groups', 'scope', 'options', 'schemaVersion', 'rounding', 'residualKept'];
/** Every group: the documented fields, plus its kind and the criterion that produced its scores. */
const GROUP = ['id', 'producers', 'kind', 'channels', 'kept', 'removed'];
/** Scored groups also carry their producer layers' params and MACs before and after, and the fraction removed. */
const SCORED = [...GROUP, 'method', 'scores', 'layer', 'removedRatio'];
/**
 * Graph criteria add the centrality account: iterations, convergence, components, edges, density (note if unusual),
 * and the graph's degrees and strongest edges (for the HTML page).
 */
const GRAPH = [...SCORED, 'iterations', 'converged', 'components', 'edges', 'density', 'graphs'];

describe('--report', () => {
  it('has the documented fields, with kept ∪ removed = 0..n−1, disjoint and sorted', () => {
    const input = fixturePath('resnet18');
    const r = pruneCli('resnet18', 'resnet18.onnx', ['--scope', 'conv', '-q']);
    expect(Object.keys(r).sort()).toEqual([...TOP_LEVEL].sort());
    expect(r).toMatchObject({ input, output: join(dir, 'resnet18.onnx'), method: 'eigenvector', ratio: 0.3, threshold: 0.2, scope: 'conv' });
    for (const k of ['params', 'macs'] as const) {
      expect(Object.keys(r[k]).sort()).toEqual(['after', 'before']);
      expect(Number.isInteger(r[k].before) && Number.isInteger(r[k].after)).toBe(true);
      expect(r[k].after).toBeLessThan(r[k].before);
    }
    expect(Object.values(r.timings).every((t) => typeof t === 'number' && t >= 0)).toBe(true);
    expect(r.groups.map((g) => g.id)).toEqual(r.groups.map((_, i) => i));
    for (const g of r.groups) {
      expectPartition(g);
      expect(g.producers.length).toBeGreaterThan(0);
      const keys = Object.keys(g).filter((k) => k !== 'note').sort();
      if (g.declined) {
        expect(keys).toEqual([...GROUP, 'declined', ...(g.residual ? ['residual'] : [])].sort());
        expect(g.declined).toMatch(/\S/);
      } else {
        expect(keys).toEqual([...GRAPH].sort());
        expect(g.scores).toHaveLength(g.channels);
        expect(g.iterations! >= 0 && typeof g.converged === 'boolean').toBe(true);
        if (g.method !== 'eigenvector' || !g.converged) expect(g.note, 'a fallback must be explained').toMatch(/\S/);
      }
    }
    expect(r.groups.filter((g) => g.declined && !g.residual).map((g) => g.producers)).toEqual([['/fc/Gemm']]);
    expect(r.groups.filter((g) => g.declined && g.residual).length).toBe(r.residualKept);
  });

  it('for a criterion without a graph (l2) the groups carry scores but no centrality account', () => {
    const r = pruneCli('cnn_small', 'cnn_l2.onnx', ['--method', 'l2', '--scope', 'all', '-q']);
    expect(r.method).toBe('l2');
    for (const g of r.groups.filter((x) => !x.declined)) {
      expect(Object.keys(g).sort()).toEqual([...SCORED].sort());
      expectPartition(g);
    }
  });
});

describe('the table on stdout', () => {
  it('lists every pruned group with kept/total and the params and MACs before → after', () => {
    const out = join(dir, 'table.onnx');
    const report = join(dir, 'table.json');
    const r = runCli([fixturePath('cnn_small'), '-o', out, '--scope', 'all', '--report', report]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as PruneReport;
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/group \(producers\)\s+kind\s+kept/);
    for (const g of rep.groups.filter((x) => !x.declined)) {
      expect(lines.some((l) => l.startsWith(g.producers[0]!) && l.includes(` ${g.kept.length}/${g.channels} `)), g.producers[0]).toBe(true);
    }
    expect(r.stdout).toMatch(/params 92\.36k → [\d.]+k \([\d.]+%\),\s+MACs 679\.06k → [\d.]+k \([\d.]+%\)/);
    expect(r.stdout).toMatch(/4 group\(s\) pruned, 1 left alone/);
  });
});

describe('the input file', () => {
  it('--ratio 0 writes a byte-identical copy', () => {
    const out = join(dir, 'copy.onnx');
    const r = runCli([fixturePath('cnn_small'), '-o', out, '--ratio', '0', '--scope', 'all', '-q']);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(fixturePath('cnn_small')))).toBe(true);
  });

  it('a scope with nothing to prune also writes a byte-identical copy', () => {
    const out = join(dir, 'copy2.onnx');
    const r = runCli([fixturePath('mlp'), '-o', out, '--scope', 'conv', '-q']);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(fixturePath('mlp')))).toBe(true);
  });

  it('is never modified by pruning', () => {
    const input = fixturePath('mobilenet_v2');
    const before = { bytes: readFileSync(input), mtime: statSync(input).mtimeMs };
    const r = runCli([input, '-o', join(dir, 'mnv2.onnx'), '--scope', 'all', '--ratio', '0.5', '-q']);
    expect(r.code).toBe(0);
    expect(readFileSync(input).equals(before.bytes)).toBe(true);
    expect(statSync(input).mtimeMs).toBe(before.mtime);
  });
});

describe('the whole method in one command', () => {
  it('prune --validate --report puts the validation (random inputs) in the report', () => {
    const r = pruneCli('cnn_small', 'validated.onnx', ['--scope', 'all', '--validate', '--ep', 'cpu', '-q']);
    const v = r.validation as { original: string; pruned: string; data: { source: string }; outputs: { name: string; shapesMatch: boolean; maxAbs: number }[]; stats: { pruned: { params: number } } };
    expect(v).toBeDefined();
    expect(v.pruned).toBe(join(dir, 'validated.onnx'));
    expect(v.data.source).toMatch(/random/);
    expect(v.outputs.map((o) => [o.name, o.shapesMatch])).toEqual([['logits', true]]);
    expect(v.outputs[0]!.maxAbs).toBeGreaterThan(0); // pruning changed the outputs, and validation measured it
    expect(v.stats.pruned.params).toBe(r.params.after);
  });

  itWith(['fashion-mnist'], 'prune --finetune --data fashion-mnist --new-head 10 writes a model that runs', async () => {
    const out = join(dir, 'tuned.onnx');
    const r = pruneCli('cnn_small', 'tuned.onnx', ['--scope', 'all', '--finetune', '--data', FASHION_MNIST,
      '--new-head', '10', '--limit', '500', '--epochs', '1', '--backend', 'wasm', '--ep', 'cpu', '-q']);
    const ft = r.finetune as { history: unknown[]; samples: { train: number; val: number } };
    expect(ft.history).toHaveLength(1);
    expect(ft.samples.train + ft.samples.val).toBe(500);
    const x = new ort.Tensor('float32', new Float32Array(28 * 28).fill(0.5), [1, 1, 28, 28]);
    const y = Object.values(await runOrt(out, { input: x }))[0]!;
    expect(y.dims).toEqual([1, 10]);
    expect([...(y.data as Float32Array)].every(Number.isFinite)).toBe(true);
  });
});
