/**
 * A longer fuzz campaign than the test's: `npx tsx bench/fuzz.ts [--cases 2000] [--seed 1] [--pool all|quick]
 * [--hang-ms 60000] [--program dist/cli/program.js] [--only <mutation>]` (npm run build first; --program runs
 * another build's CLI, --only keeps the mutations whose name contains the text). Prints every case that broke a promise (exit code, stderr, leftovers,
 * changed input, output onnxruntime refuses, hang) with its seed, then the counts. Replay one case with
 * `--seed N --cases 1`.
 */
import { runCampaign } from '../test/fuzz/campaign.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const cases = Number(arg('cases', '2000'));
const firstSeed = Number(arg('seed', '1'));
const pool = arg('pool', 'all') === 'quick' ? 'quick' : 'all';
const hangMs = Number(arg('hang-ms', '60000'));
const program = arg('program', '');
const only = arg('only', '');
let done = 0;
const result = await runCampaign({
  firstSeed, cases, pool, hangMs, ...(program ? { program } : {}), ...(only ? { only } : {}),
  onCase: (o) => {
    done++;
    if (o.problems.length) console.log(`FAIL seed ${o.seed} [${o.label}] exit ${o.code}: ${o.problems.join('; ')}\n  args: ${o.args.join(' ')}\n  stderr: ${o.stderr.trim().split('\n').slice(0, 6).join('\n          ')}`);
    else if (done % 100 === 0) console.log(`${done}/${cases} cases`);
  },
});
const byCode = new Map<number, number>();
for (const o of result.outcomes) byCode.set(o.code, (byCode.get(o.code) ?? 0) + 1);
const slowest = [...result.outcomes].sort((a, b) => b.ms - a.ms)[0];
console.log(`${result.outcomes.length} cases (seeds ${firstSeed}..${firstSeed + cases - 1}, pool ${pool}) in ${(result.ms / 1000).toFixed(0)} s: ` +
  `${[...byCode].sort((a, b) => a[0] - b[0]).map(([c, n]) => `exit ${c}: ${n}`).join(', ')}; ${result.failures.length} broke a promise; ` +
  `slowest seed ${slowest?.seed} (${((slowest?.ms ?? 0) / 1000).toFixed(1)} s)`);
process.exitCode = result.failures.length ? 1 : 0;
