/**
 * Issue 13's accuracy check for the residual-stream default: the trained byte-level LM (fixtures/trained/lm_kjv.onnx)
 * pruned `--scope all` with calibration (so `flap` with compensation, the defaults) with the hidden size kept (the
 * default) and pruned too (`--prune-residual`), at the same MACs (`--target-macs 0.7`) and at the same `--ratio
 * 0.3`; held-out perplexity on the same seeded 1000 windows as bench/lm/experiment.ts.
 *
 *    npm run build && /usr/bin/python3 bench/lm/prepare_text.py && npx tsx bench/lm/residual.ts
 *
 * Writes its section of bench/results/lm.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAverage, machineLine, requireBuild, writeResults } from '../bigModels.js';
import { CALIB_TEXT, CLI, EVAL_LIMIT, EVAL_TEXT, LM, OUT, relative, ROOT, WINDOW } from './config.js';

const DIR = join(OUT, 'residual');
const ARMS = [
  { label: 'hidden size kept (default)', flags: ['--target-macs', '0.7'] },
  { label: 'hidden size pruned too', flags: ['--target-macs', '0.7', '--prune-residual'] },
  { label: 'hidden size kept (default)', flags: ['--ratio', '0.3'] },
  { label: 'hidden size pruned too', flags: ['--ratio', '0.3', '--prune-residual'] },
];

function cli(argv: string[]): string {
  process.stderr.write(`$ onnx-cprune ${argv.map(relative).join(' ')}\n`);
  const r = spawnSync(process.execPath, [CLI, ...argv], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`onnx-cprune ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function perplexity(model: string): number {
  const out = cli(['evaluate', model, '--data', EVAL_TEXT, '--ep', 'cpu', '--json', '--window', String(WINDOW), '--limit', String(EVAL_LIMIT), '--seed', '0', '--batch', '64']);
  return (JSON.parse(out) as { perplexity: { perplexity: number } }).perplexity.perplexity;
}

requireBuild();
mkdirSync(DIR, { recursive: true });
const load = loadAverage();
const lines = [
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()} (load ${load}); \`npx tsx bench/lm/residual.ts\`.`,
  `Every arm: \`onnx-cprune ${relative(LM)} -o <out> --scope all <flags> --calib ${relative(CALIB_TEXT)} --calib-samples 128 --ep cpu\` (flap, compensation on: the defaults with --calib); held-out perplexity on ${EVAL_LIMIT} seeded ${WINDOW}-byte windows of ${relative(EVAL_TEXT)}.`,
  '',
  `Unpruned: perplexity ${perplexity(LM).toFixed(3)}.`,
  '',
  '| flags | residual stream (hidden 128) | ratio applied | params ratio | MACs ratio (per token) | perplexity |',
  '|---|---|---:|---:|---:|---:|',
];
for (const [i, arm] of ARMS.entries()) {
  const out = join(DIR, `arm${i}.onnx`);
  const report = join(DIR, `arm${i}.json`);
  cli([LM, '-o', out, '--scope', 'all', ...arm.flags, '--calib', CALIB_TEXT, '--calib-samples', '128', '--ep', 'cpu', '--report', report, '-q']);
  const r = JSON.parse(readFileSync(report, 'utf8')) as { ratio: number; params: { before: number; after: number }; macs: { before: number; after: number } };
  lines.push(`| \`${arm.flags.join(' ')}\` | ${arm.label} | ${r.ratio.toFixed(3)} | ${(r.params.after / r.params.before).toFixed(3)} | ${(r.macs.after / r.macs.before).toFixed(3)} | ${perplexity(out).toFixed(3)} |`);
}
console.log(lines.join('\n'));
writeResults(join(ROOT, 'bench', 'results', 'lm.md'), 'LM experiment', 'residual', lines.join('\n'));
