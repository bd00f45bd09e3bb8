import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureOutput } from '../support/cli.js';
import { ort, ortSession } from '../support/ort.js';
import { loadModel } from '../../src/ir/load.js';
import { saveModel } from '../../src/ir/save.js';
import type { FuzzCase } from './mutations.js';

/** The CLI's entry point as a function: argv (node, script, args...) → exit code. */
export type CliMain = (argv: string[]) => Promise<number>;

export interface CaseOutcome {
  seed: number;
  label: string;
  args: string[];
  code: number;
  stderr: string;
  ms: number;
  /** What the case broke; empty when every promise held. */
  problems: string[];
}

/**
 * Runs one case in a fresh folder under `root` and checks every promise the CLI makes about bad input: exit 0 or 2
 * only; on 2 exactly one stderr line and no stack trace; no file left behind but the declared outputs (none on 2);
 * every file the input consisted of unchanged; every model written loads and runs in onnxruntime.
 */
export async function runCase(c: FuzzCase, root: string, main: CliMain): Promise<CaseOutcome> {
  const dir = mkdtempSync(join(root, `case-${c.seed}-`));
  try {
    materialize(c, dir);
    const before = snapshot(dir);
    const args = c.args.map((a) => a.replaceAll('{dir}', dir));
    const t0 = performance.now();
    const { code, stderr } = await captureOutput(() => main(['node', 'onnx-cprune', ...args]));
    const ms = performance.now() - t0;
    const problems: string[] = [];
    if (code !== 0 && code !== 2) problems.push(`exit code ${code}`);
    if (code !== 0) {
      const lines = stderr.replace(/\n$/, '').split('\n');
      if (lines.length !== 1) problems.push(`${lines.length} stderr lines`);
      if (/internal error|\n\s+at .*:\d+:\d+/.test(stderr)) problems.push('stack trace or internal error on stderr');
    }
    const after = snapshot(dir);
    const allowed = new Set(code === 0 ? c.outputs : []);
    for (const [path, what] of before) {
      // What stood at an output path outside the input's folder (an old output, a dangling link) may be replaced.
      const replaceable = allowed.has(path) && !path.startsWith('in/');
      if (after.get(path) !== what && !replaceable) problems.push(`input file '${path}' changed (${what} → ${after.get(path) ?? 'gone'})`);
    }
    for (const path of after.keys()) {
      if (!before.has(path) && !allowed.has(path)) problems.push(`left behind: '${path}'`);
    }
    if (code === 0) {
      for (const out of c.outputs.filter((o) => o.endsWith('.onnx') && after.has(o) && !before.has(o))) {
        const why = await ortRefuses(join(dir, out));
        if (why && !excused(await inputRefusal(dir))) problems.push(`output '${out}' fails in onnxruntime: ${why}`);
      }
    }
    return { seed: c.seed, label: c.label, args, code, stderr, ms, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * When an output does not run, the input is to blame only if onnxruntime cannot run it either although it is legal
 * for us: ops of a custom domain onnxruntime lacks, or a failure that shows only when running on our inputs (a
 * symbolic batch dim set to 1 where the model needs another size), which no check of the graph can see.
 */
function excused(input: string | undefined): boolean {
  return input !== undefined && (input.startsWith('custom domain') || input.startsWith('running with symbolic dims as 1'));
}

/**
 * Why onnxruntime cannot run the case's input. It cannot infer shapes through constants stored as external data
 * (a Reduce's axes): such an input, legal for us, is asked about with its weights inline, as our output has them.
 */
async function inputRefusal(dir: string): Promise<string | undefined> {
  const input = join(dir, 'in/model.onnx');
  const why = await ortRefuses(input);
  if (!why || !/external tensors/.test(why)) return why;
  const inline = join(dir, 'input-inline.onnx');
  saveModel(loadModel(input), inline, { externalData: false });
  return ortRefuses(inline);
}

function materialize(c: FuzzCase, dir: string): void {
  for (const [rel, spec] of c.files) {
    const path = join(dir, rel);
    switch (spec.kind) {
      case 'bytes': writeFileSync(path, spec.data); break;
      case 'dir': mkdirSync(path, { recursive: true }); break;
      case 'fifo': execFileSync('mkfifo', [path]); break;
      case 'symlink': symlinkSync(spec.target, path); break;
      case 'hardlink': linkSync(join(dir, spec.target), path); break;
    }
  }
}

/** Every entry under `dir` (links not followed): its kind, and a content hash for regular files. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of readdirSync(dir, { recursive: true }).map(String)) {
    const path = join(dir, rel);
    const st = lstatSync(path);
    if (st.isFile()) out.set(rel, `file ${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}`);
    else out.set(rel, st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : st.isFIFO() ? 'fifo' : 'other');
  }
  return out;
}

/**
 * Why onnxruntime cannot load or run the model on seeded inputs (symbolic dims as 1), or undefined when it can:
 * 'custom domain: …' for ops of a domain onnxruntime lacks, 'running…: …' when it loads but fails to run, else the
 * load error. Graph optimizations are off: they do not decide validity, and take minutes on a value feeding
 * thousands of nodes.
 */
export async function ortRefuses(path: string): Promise<string | undefined> {
  let session: ort.InferenceSession | undefined;
  let loaded = false;
  let symbolic = false;
  try {
    session = await ortSession(path);
    loaded = true;
    const feeds: Record<string, ort.Tensor> = {};
    for (const m of session.inputMetadata) {
      if (!m.isTensor) return `input '${m.name}' is not a tensor`;
      symbolic ||= m.shape.some((d) => !(typeof d === 'number' && d >= 0));
      const dims = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
      const n = dims.reduce((a, b) => a * b, 1);
      feeds[m.name] = m.type === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n), dims)
        : m.type === 'int32' ? new ort.Tensor('int32', new Int32Array(n), dims)
        : m.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(n), dims)
        : new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i)), dims);
    }
    await session.run(feeds);
    return undefined;
  } catch (e) {
    const message = (e as Error).message.split('\n')[0]!;
    if (loaded) return `running${symbolic ? ' with symbolic dims as 1' : ''}: ${message}`;
    return /domain|No Op registered|not a registered/.test(message) ? `custom domain: ${message}` : message;
  } finally {
    await session?.release();
  }
}
