/**
 * Issue 11, LLM scale: `prune --scope all --ratio 0.3 --prune-residual` on Llama-2-7B-shaped models (bench/make_llama7b.ts: hidden
 * 4096, 32 heads / 8 KV heads, FFN 11008, vocab 32000, float16, external data) of 2 and 4 layers. Goal: under 15 s
 * per layer with heads, FFN and hidden size all pruned (32 layers in under 8 minutes, extrapolated), peak RSS under
 * 2 GiB and independent of the number of layers.
 *
 *     npm run build && npx tsx bench/llm_scale.ts [--layers 2,4] [--no-phases] [--no-verify] [--check-only]
 *
 * (--check-only: only the onnxruntime decode check of the already pruned smallest model.)
 *
 * Per model: the CLI as users run it, in a child under GNU time (`/usr/bin/time -v`: wall, user + system CPU, peak
 * RSS), then the same work through the library in another child (bench/prune-child.mjs: load, each group's scoring,
 * rewrite, save). Seconds per layer and the 32-layer extrapolation come from the difference between the largest and
 * smallest model (what one more layer costs), the fixed part (embedding, LM head, start-up) from the smallest.
 * Then the pruned smallest model is checked: it loads in onnxruntime and decodes token by token through its own
 * cache to the same logits as one pass, and `onnx-cprune inspect` reads it. Models go to the git-ignored bench/out/;
 * the tables go to bench/results/llm_scale.md.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { halfToFloat } from '../src/ir/dtype.js';
import { makeLlama7b, LLAMA2_7B } from './make_llama7b.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const layerCounts = (arg('--layers') ?? '2,4').split(',').map(Number);
if (layerCounts.some((l) => !Number.isInteger(l) || l < 1) || layerCounts.length < 2) throw new Error('--layers takes two or more layer counts, e.g. 2,4');
const phases = !argv.includes('--no-phases');
const verify = !argv.includes('--no-verify');
const CLI = here('../dist/cli/main.js');
if (!existsSync(CLI)) throw new Error('run `npm run build` first');
if (!existsSync('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is needed for peak RSS and CPU time: apt-get install time');
mkdirSync(here('./out'), { recursive: true });

interface Timed { wallS: number; cpuS: number; peakMiB: number; stdout: string }

/** Runs a command under GNU time -v; wall, user + system time and peak RSS from its report. */
function timed(cmd: string[]): Timed {
  spawnSync('sync', { stdio: 'ignore' }); // earlier runs' writeback does not compete with this one
  const r = spawnSync('/usr/bin/time', ['-v', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const field = (name: string): string => {
    const m = new RegExp(`${name}: (.+)`).exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
    return m[1]!.trim();
  };
  const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)').split(':').map(Number).reduce((s, x) => s * 60 + x, 0);
  const cpu = Number(field('User time \\(seconds\\)')) + Number(field('System time \\(seconds\\)'));
  return { wallS: wall, cpuS: cpu, peakMiB: Number(field('Maximum resident set size \\(kbytes\\)')) / 1024, stdout: r.stdout };
}

interface ChildPhases {
  loadMs: number; saveMs: number; timings: { analyzeMs: number; scoreMs: number; rewriteMs: number };
  groups: { label: string; ms: number; rssKiB: number; channels?: number; kept?: number }[];
  peakKiB: number;
}

interface Measured {
  layers: number; gib: number; load: string; cli: Timed; child?: Timed & { phases: ChildPhases };
  timings: { analyzeMs: number; scoreMs: number; rewriteMs: number };
}

const loadAverage = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

function measure(layers: number): Measured {
  const model = here(`./out/llama7b_${layers}l.onnx`);
  if (!existsSync(model)) {
    console.log(`generating ${model} ...`);
    makeLlama7b(layers, model);
  }
  const gib = (readFileSync(model).byteLength + Number(spawnSync('stat', ['-c', '%s', `${model}.data`], { encoding: 'utf8' }).stdout)) / 2 ** 30;
  const out = here(`./out/llama7b_${layers}l.pruned.onnx`);
  const report = here(`./out/llama7b_${layers}l.report.json`);
  const load = loadAverage();
  console.log(`${layers} layers (${gib.toFixed(2)} GiB), load ${load}: CLI ...`);
  const cli = timed([process.execPath, CLI, 'prune', model, '-o', out, '--scope', 'all', '--ratio', '0.3', '--prune-residual', '--report', report, '-q']);
  const { timings } = JSON.parse(readFileSync(report, 'utf8')) as { timings: Measured['timings'] };
  let child: Measured['child'];
  if (phases) {
    console.log(`${layers} layers: library child ...`);
    const t = timed([process.execPath, here('./prune-child.mjs'), model, here(`./out/llama7b_${layers}l.child.onnx`), JSON.stringify({ scope: 'all', ratio: 0.3, pruneResidual: true })]);
    child = { ...t, phases: JSON.parse(t.stdout) as ChildPhases };
  }
  return { layers, gib, load, cli, timings, ...(child ? { child } : {}) };
}

/** Prefill, then single steps through present.* → past_key_values.*, against one pass over the whole sequence. */
async function decodeCheck(model: string, tokens: number[]): Promise<{ worst: number; kvHeads: number; vocab: number }> {
  const session = await ort.InferenceSession.create(model);
  const past = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const meta = session.inputMetadata.find((m) => m.name === past[0]) as { shape?: (number | string)[] } | undefined;
  const kvHeads = Number(meta?.shape?.[1] ?? LLAMA2_7B.kvHeads);
  const headDim = LLAMA2_7B.headDim;
  const ids = (t: number[]) => new ort.Tensor('int64', BigInt64Array.from(t.map(BigInt)), [1, t.length]);
  const run = async (chunk: number[], start: number, cache: Record<string, ort.Tensor>) => {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: ids(chunk),
      attention_mask: ids(Array(start + chunk.length).fill(1)),
      position_ids: ids(chunk.map((_, i) => start + i)),
    };
    for (const name of past) feeds[name] = cache[name] ?? new ort.Tensor('float16', new Uint16Array(0), [1, kvHeads, 0, headDim]);
    const out = await session.run(feeds);
    const next: Record<string, ort.Tensor> = {};
    for (const name of past) next[name] = out[name.replace('past_key_values.', 'present.')]!;
    return { logits: Array.from(out.logits!.data as Uint16Array, halfToFloat), cache: next };
  };
  const whole = await run(tokens, 0, {});
  const vocab = whole.logits.length / tokens.length;
  let state = await run(tokens.slice(0, 3), 0, {});
  const stepped = state.logits;
  for (let t = 3; t < tokens.length; t++) {
    state = await run([tokens[t]!], t, state.cache);
    for (const v of state.logits) stepped.push(v);
  }
  const scale = whole.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const worst = whole.logits.reduce((m, v, i) => Math.max(m, Math.abs(v - stepped[i]!) / scale), 0);
  await session.release();
  return { worst, kvHeads, vocab };
}

const checkOnly = argv.includes('--check-only');
const TOKENS = [1, 15043, 3186, 29991, 306, 626, 263];
const results = checkOnly ? [] : layerCounts.map(measure);
if (!checkOnly) writeFileSync(here('./out/llm_scale.last.json'), JSON.stringify(results.map(({ cli, child, ...m }) => ({ ...m, cli: { ...cli, stdout: undefined }, phases: child?.phases })), null, 1));
if (checkOnly) {
  for (const name of [`llama7b_${layerCounts[0]}l`, `llama7b_${layerCounts[0]}l.pruned`]) console.log(name, JSON.stringify(await decodeCheck(here(`./out/${name}.onnx`), TOKENS)));
  process.exit(0);
}
const [first, last] = [results[0]!, results[results.length - 1]!];
const dl = last.layers - first.layers;
const perLayer = (pick: (m: Measured) => number): number => (pick(last) - pick(first)) / dl;
const at32 = (pick: (m: Measured) => number): number => pick(first) + (32 - first.layers) * perLayer(pick);

let checks: string[] = [];
if (verify) {
  const pruned = here(`./out/llama7b_${first.layers}l.pruned.onnx`);
  console.log('checking the pruned model in onnxruntime and with inspect ...');
  const d = await decodeCheck(pruned, TOKENS);
  const o = await decodeCheck(here(`./out/llama7b_${first.layers}l.onnx`), TOKENS);
  const inspect = spawnSync(process.execPath, [CLI, 'inspect', pruned], { encoding: 'utf8' });
  checks = [
    `- onnxruntime loads \`llama7b_${first.layers}l.pruned.onnx\` (${d.kvHeads} KV heads, vocab ${d.vocab}); 7 tokens decoded as a prefill of 3 and 4 single steps through its own cache give the logits of one pass over all 7 within ${d.worst.toExponential(1)} of the largest logit (float16 arithmetic: the original model, ${LLAMA2_7B.kvHeads} KV heads, ${o.worst.toExponential(1)}).`,
    `- \`onnx-cprune inspect\` on it: exit ${inspect.status}${inspect.status === 0 ? ` (${inspect.stdout.split('\n').find((l) => /params/i.test(l))?.trim() ?? 'ok'})` : `: ${inspect.stderr.trim()}`}.`,
  ];
}

const f = (x: number, digits = 1): string => x.toFixed(digits);
const lines = [
  '## Figures',
  '',
  `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), shared with other work (load average before each run given).`,
  `Command: \`/usr/bin/time -v node dist/cli/main.js prune bench/out/llama7b_<L>l.onnx -o bench/out/llama7b_<L>l.pruned.onnx --scope all --ratio 0.3 --prune-residual --report <r.json> -q\``,
  '',
  '| layers | model | load avg (1/5/15 min) | wall s | CPU s (user+sys) | peak RSS MiB | analyze s | score s | rewrite s | load+save+start s |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((m) => {
    const rest = m.cli.wallS - (m.timings.analyzeMs + m.timings.scoreMs + m.timings.rewriteMs) / 1000;
    return `| ${m.layers} | ${f(m.gib, 2)} GiB | ${m.load} | ${f(m.cli.wallS)} | ${f(m.cli.cpuS)} | ${f(m.cli.peakMiB, 0)} | ${f(m.timings.analyzeMs / 1000)} | ${f(m.timings.scoreMs / 1000)} | ${f(m.timings.rewriteMs / 1000)} | ${f(rest)} |`;
  }),
  '',
  `Per layer (from ${first.layers} → ${last.layers} layers): **${f(perLayer((m) => m.cli.wallS))} s wall, ${f(perLayer((m) => m.cli.cpuS))} s CPU**; ` +
    `peak RSS ${f(perLayer((m) => m.cli.peakMiB), 0)} MiB per layer. Extrapolated to 32 layers: **${f(at32((m) => m.cli.wallS) / 60)} min wall** ` +
    `(${f(at32((m) => m.cli.cpuS) / 60)} min CPU), peak RSS ≈ ${f(at32((m) => m.cli.peakMiB), 0)} MiB.`,
  '',
];
if (phases) {
  lines.push('Library child (`node bench/prune-child.mjs <model> <out> \'{"scope":"all","ratio":0.3}\'`), per phase and per group:', '');
  for (const m of results) {
    const p = m.child!.phases;
    lines.push(`- ${m.layers} layers: wall ${f(m.child!.wallS)} s, CPU ${f(m.child!.cpuS)} s, peak RSS ${f(m.child!.peakMiB, 0)} MiB; load ${f(p.loadMs / 1000, 2)} s, analyze ${f(p.timings.analyzeMs / 1000, 2)} s, score ${f(p.timings.scoreMs / 1000)} s, rewrite ${f(p.timings.rewriteMs / 1000, 2)} s, save ${f(p.saveMs / 1000)} s.`);
    for (const g of p.groups) lines.push(`  - ${g.label} (${g.channels} units → ${g.kept}): ${f(g.ms / 1000)} s, RSS after ${f(g.rssKiB / 1024, 0)} MiB`);
  }
  lines.push('');
}
if (checks.length) lines.push('Checks on the pruned model:', '', ...checks, '');
const text = lines.join('\n');
console.log(text);
writeFileSync(here('./out/llm_scale.last.md'), text + '\n');
console.log(`(also in bench/out/llm_scale.last.md; bench/results/llm_scale.md keeps the figures reported)`);
