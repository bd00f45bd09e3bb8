import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/index.js';
import { PROGRAM, runCampaign, spawnedCli } from './campaign.js';
import { makeCase } from './mutations.js';
import { runCase, type CaseOutcome } from './runCase.js';

/**
 * Seeded hostile inputs (mutations.ts: byte flips, truncations, lying tensors, hostile external data, graphs that
 * lie, output paths onto the input's files, absurd options) must end in exit 0 or 2, one stderr line on 2, no stack
 * trace, no hang, no leftover file, the input unchanged, and every model written running in onnxruntime. A longer
 * campaign over every fixture: `npx tsx bench/fuzz.ts --cases 2000`.
 */
const CASES = 300;
const HANG_MS = 60_000;

function describeFailures(failures: CaseOutcome[]): string[] {
  return failures.map((f) => `seed ${f.seed} [${f.label}] exit ${f.code}: ${f.problems.join('; ')} | ${f.args.join(' ')} | ${f.stderr.trim().split('\n')[0]}`);
}

describe('fuzz: hostile models and options', () => {
  it(`${CASES} seeded cases through main(), each in a fresh folder`, async () => {
    expect(existsSync(PROGRAM), `${PROGRAM} is missing: run \`npm run build\` first`).toBe(true);
    const result = await runCampaign({ firstSeed: 1, cases: CASES, pool: 'quick', hangMs: HANG_MS, perWorker: 150 });
    const exits = result.outcomes.reduce<Record<number, number>>((acc, o) => ({ ...acc, [o.code]: (acc[o.code] ?? 0) + 1 }), {});
    console.log(`fuzz: ${result.outcomes.length} cases in ${(result.ms / 1000).toFixed(1)} s, exits ${JSON.stringify(exits)}`);
    expect(result.outcomes).toHaveLength(CASES);
    expect(describeFailures(result.failures)).toEqual([]);
    // The generator must keep reaching both ends: models that prune, and lies that are refused.
    expect(exits[0] ?? 0).toBeGreaterThan(CASES / 20);
    expect(exits[2] ?? 0).toBeGreaterThan(CASES / 2);
  }, 300_000);

  const root = tempDir('fuzz-spawn');
  it('a sample of the cases through the CLI as a separate process', async () => {
    const outcomes: CaseOutcome[] = [];
    // A link leading out of the folder, an output whose side file is the input's, a FIFO, a hard link to the input,
    // a device behind a link (with an --html page), a lying value_info, and clean prunes of two decoders (one validated).
    for (const seed of [22, 12, 522, 175, 114, 16, 5, 29]) outcomes.push(await runCase(makeCase(seed), root, spawnedCli(HANG_MS)));
    expect(describeFailures(outcomes.filter((o) => o.problems.length))).toEqual([]);
  }, 300_000);
});
