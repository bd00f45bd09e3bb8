import { pathToFileURL } from 'node:url';
import { ALL_FIXTURES, makeCase, QUICK_FIXTURES } from './mutations.js';
import { runCase, type CliMain } from './runCase.js';

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
  const c = makeCase(seed, pool === 'all' ? ALL_FIXTURES : QUICK_FIXTURES, only);
  const outcome = await runCase(c, root, main);
  say(`@@fuzz done ${JSON.stringify(outcome)}\n`);
}
