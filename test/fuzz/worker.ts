import { pathToFileURL } from 'node:url';
import { ALL_FIXTURES, makeCase, QUICK_FIXTURES } from './mutations.js';
import { runCase, type CaseOutcome, type CliMain } from './runCase.js';

/**
 * Runs fuzz cases in this process, one after another, through the built CLI's main(): argv is
 * `<root> <first seed> <count> <quick|all> <dist/cli/program.js> [only]`. Writes `@@fuzz start <seed>` before each case
 * and `@@fuzz done <json>` after it, so the parent can tell which case hung and restart after it.
 */
const [root, first, count, pool, program, only] = process.argv.slice(2) as [string, string, string, string, string, string | undefined];
const { main } = (await import(pathToFileURL(program).href)) as { main: CliMain };
const say = process.stdout.write.bind(process.stdout);
for (let seed = Number(first); seed < Number(first) + Number(count); seed++) {
  say(`@@fuzz start ${seed}\n`);
  let outcome: CaseOutcome;
  try {
    outcome = await runCase(makeCase(seed, pool === 'all' ? ALL_FIXTURES : QUICK_FIXTURES, only), root, main);
  } catch (e) {
    // A bug of the generator or the checks, not of the CLI: reported as a failed case all the same.
    outcome = { seed, label: '(generator)', args: [], code: -1, stderr: '', ms: 0, problems: [`the fuzz harness failed: ${(e as Error)?.stack ?? String(e)}`] };
  }
  say(`@@fuzz done ${JSON.stringify(outcome)}\n`);
}
