import type { Train } from './config.js';
import type { RunResult } from './experiment.js';
import { mean, pairedTTest, std, type PairedTest } from './stats.js';

/** Accuracies of one (pair, train, arm, shots) cell, indexed by seed. */
export class Results {
  private readonly byCell = new Map<string, Map<number, number>>();

  constructor(readonly runs: readonly RunResult[]) {
    for (const r of runs) {
      const k = cellKey(r.pair, r.train, r.arm, r.shots);
      if (!this.byCell.has(k)) this.byCell.set(k, new Map());
      this.byCell.get(k)!.set(r.seed, r.accuracy);
    }
  }

  has(pair: string, train: Train, arm: string, shots: number): boolean {
    return this.byCell.has(cellKey(pair, train, arm, shots));
  }

  /** Seed → accuracy (0..1). */
  cell(pair: string, train: Train, arm: string, shots: number): Map<number, number> {
    return this.byCell.get(cellKey(pair, train, arm, shots)) ?? new Map();
  }

  /** Mean and sample std in percent, or undefined for an empty cell. */
  summary(pair: string, train: Train, arm: string, shots: number): { mean: number; std: number; n: number } | undefined {
    const xs = [...this.cell(pair, train, arm, shots).values()].map((a) => 100 * a);
    return xs.length ? { mean: mean(xs), std: std(xs), n: xs.length } : undefined;
  }

  /** Paired t-test of arm a against arm b over the seeds both have (differences in percentage points). */
  compare(pair: string, train: Train, a: string, b: string, shots: number): PairedTest | undefined {
    const ca = this.cell(pair, train, a, shots);
    const cb = this.cell(pair, train, b, shots);
    const seeds = [...ca.keys()].filter((s) => cb.has(s)).sort((x, y) => x - y);
    if (seeds.length === 0) return undefined;
    return pairedTTest(seeds.map((s) => 100 * ca.get(s)!), seeds.map((s) => 100 * cb.get(s)!));
  }

  /** The first run of an arm on a pair (for sizes, which do not depend on seed or shots). */
  anyRun(pair: string, arm: string): RunResult | undefined {
    return this.runs.find((r) => r.pair === pair && r.arm === arm);
  }
}

const cellKey = (pair: string, train: Train, arm: string, shots: number): string => `${pair}|${train}|${arm}|${shots}`;

export function fmtMeanStd(s: { mean: number; std: number; n: number } | undefined): string {
  if (!s) return '–';
  return s.n > 1 ? `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}` : s.mean.toFixed(2);
}
