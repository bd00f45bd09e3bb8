/**
 * The CLI's `--report` against an independent reference (test/oracles/prune_reference.py: python-onnx reads the
 * weights, numpy + networkx score them): identical kept/removed indices and scores within 1e-5 for the dense layers
 * of mlp and cnn_small at τ 0.2 and 0.5, the residual (coupled) conv groups of resnet18 under both coupling rules,
 * and the unweighted graph. Where networkx does not converge or the graph is empty, the report must say it fell back.
 * Needs the built CLI (`npm run build`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeWith, fixturePath, runCli, runPython, tempDir } from '../support/index.js';
import type { GroupReport, PruneReport } from './helpers.js';

const RATIO = 0.3;
const dir = tempDir('prune-reference');

interface RefCase {
  tau: number; edges: number; components: number;
  networkx: number[] | null; perComponent: number[]; l2: number[]; keep: number[];
  unweighted: number[] | null; average?: number[] | null;
}

let runs = 0;
/**
 * `onnx-cprune model -o … --report …` with these flags and `--round-to 1` (the reference keeps exactly n − ⌊p·n⌋);
 * returns the report's pruned (not declined) groups.
 */
function cliGroups(model: string, flags: string[]): GroupReport[] {
  const tag = `r${runs++}`;
  const report = join(dir, `${tag}.json`);
  const r = runCli([fixturePath(model), '-o', join(dir, `${tag}.onnx`), '--ratio', String(RATIO), '--round-to', '1', '--report', report, '-q', ...flags]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return (JSON.parse(readFileSync(report, 'utf8')) as PruneReport).groups.filter((g) => !g.declined);
}

function reference(model: string, groups: readonly GroupReport[], taus: number[]): RefCase[][] {
  const spec = { ratio: RATIO, taus, groups: groups.map((g) => g.producers) };
  return runPython<{ cases: RefCase[] }[]>('prune_reference.py', [fixturePath(model)], { input: spec }).map((g) => g.cases);
}

function expectClose(actual: readonly number[] | undefined, expected: readonly number[], label: string): void {
  expect(actual?.length, label).toBe(expected.length);
  const worst = Math.max(...expected.map((e, i) => Math.abs(actual![i]! - e)));
  expect(worst, `${label}: largest score difference`).toBeLessThan(1e-5);
}

/** The report's group against the reference case: kept set, scores, and how it says it got them. */
function expectMatches(g: GroupReport, ref: RefCase, label: string): string {
  expect(g.kept, `${label} kept`).toEqual(ref.keep);
  expect(g.removed, `${label} removed`).toEqual(Array.from({ length: g.channels }, (_, i) => i).filter((i) => !ref.keep.includes(i)));
  expect(g.components, label).toBe(ref.components);
  if (ref.edges === 0) {
    expect(g.method, label).toBe('l2');
    expect(g.note, label).toMatch(/no edge above τ = [\d.]+: eigenvector scores are all 0, scored by l2 instead/);
    expectClose(g.scores, ref.l2, label);
    return 'empty→l2';
  }
  expect(g.method, label).toBe('eigenvector');
  expect(g.converged, label).toBe(true);
  if (ref.networkx) {
    expect(g.note ?? '', label).not.toMatch(/did not converge/);
    expectClose(g.scores, ref.networkx, label);
    return 'networkx';
  }
  expect(g.note, `${label}: networkx raised, the report must say so`).toMatch(/power iteration did not converge in 100 iterations.*principal eigenvector/);
  expectClose(g.scores, ref.perComponent, label);
  return 'per-component';
}

describeWith(['onnx', 'numpy', 'networkx'], 'against numpy + networkx', () => {
  describe.each([
    ['mlp', 'dense'],
    ['cnn_small', 'dense'],
    ['resnet18', 'conv'],
  ])('%s --scope %s', (model, scope) => {
    const taus = model === 'resnet18' ? [0, 0.2] : [0.2, 0.5];

    it(`kept sets and scores match numpy + networkx at τ ${taus.join(', ')}`, () => {
      const byTau = taus.map((tau) => cliGroups(model, ['--scope', scope, '--threshold', String(tau)]));
      const ref = reference(model, byTau[0]!, taus);
      const seen = new Set<string>();
      byTau.forEach((groups, t) => {
        expect(groups.map((g) => g.producers)).toEqual(byTau[0]!.map((g) => g.producers));
        groups.forEach((g, i) => seen.add(expectMatches(g, ref[i]![t]!, `${model} ${g.producers.join('+')} τ=${taus[t]}`)));
      });
      // Each model exercises what its weights allow: mlp/cnn_small a converged graph and an empty one; resnet18 also a
      // (coupled) group where networkx fails to converge.
      expect([...seen].sort()).toEqual(model === 'resnet18' ? ['empty→l2', 'networkx', 'per-component'] : ['empty→l2', 'networkx']);
    });
  });

  describe('graph options', () => {
    it('--unweighted scores as networkx with every edge weighing 1', () => {
      const groups = cliGroups('mlp', ['--unweighted']);
      const ref = reference('mlp', groups, [0.2]);
      const withEdges = groups.filter((_, i) => ref[i]![0]!.edges > 0);
      expect(withEdges.length).toBeGreaterThan(0);
      for (const g of withEdges) {
        const r = ref[groups.indexOf(g)]![0]!;
        expect(r.unweighted).not.toBeNull();
        expectClose(g.scores, r.unweighted!, `${g.producers.join('+')} unweighted`);
        expect(r.unweighted).not.toEqual(r.networkx); // the option changes the scores
      }
    });

    it('--coupling average scores a coupled group by the mean of its producers\' networkx centralities', () => {
      const groups = cliGroups('resnet18', ['--scope', 'conv', '--prune-residual', '--threshold', '0', '--coupling', 'average']);
      const ref = reference('resnet18', groups, [0]);
      const coupled = groups.filter((g, i) => g.producers.length > 1 && ref[i]![0]!.average);
      expect(coupled.length).toBeGreaterThan(0);
      for (const g of coupled) {
        const r = ref[groups.indexOf(g)]![0]!;
        expectClose(g.scores, r.average!, `${g.producers.join('+')} average`);
        expect(Math.max(...r.average!.map((a, i) => Math.abs(a - r.networkx![i]!)))).toBeGreaterThan(1e-3); // differs from concat
      }
    });
  });
});
