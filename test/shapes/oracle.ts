import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Graph } from '../../src/ir/graph.js';
import type { Dim } from '../../src/ir/value.js';

/** Debian's python3-onnx (onnx 1.12), the independent oracle; not the `python3` first on PATH. */
export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./onnx_shapes.py', import.meta.url));

export interface TypedDims {
  elemType: number | null;
  dims: Dim[] | null;
}

export function hasPythonOnnx(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
}

/** Runs onnx_shapes.py with `args` and parses its JSON report. */
export function runOracle<T>(args: string[]): T {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`onnx_shapes.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** How our shapes compare with a reference's, dim by dim ("both known → equal"; the rest is counted). */
export interface Comparison {
  values: number;
  /** Dims both sides know, all of which must agree. */
  bothKnown: number;
  /** Dims only we know (the reference left them symbolic or unknown). */
  oursOnly: number;
  /** Dims only the reference knows. */
  theirsOnly: number;
  mismatches: string[];
}

export function emptyComparison(): Comparison {
  return { values: 0, bothKnown: 0, oursOnly: 0, theirsOnly: 0, mismatches: [] };
}

export function addComparison(into: Comparison, c: Comparison): void {
  into.values += c.values;
  into.bothKnown += c.bothKnown;
  into.oursOnly += c.oursOnly;
  into.theirsOnly += c.theirsOnly;
  into.mismatches.push(...c.mismatches);
}

/** Compares every value the reference typed with the value of that name in `graph`. */
export function compareWith(graph: Graph, reference: Record<string, TypedDims>, label: string): Comparison {
  const c = emptyComparison();
  for (const [name, ref] of Object.entries(reference)) {
    const v = graph.find(name);
    if (!v) continue;
    c.values++;
    if (ref.elemType && v.elemType !== undefined && ref.elemType !== v.elemType)
      c.mismatches.push(`${label}: ${name} type ${v.elemType} vs ${ref.elemType}`);
    const ours = v.shape;
    const theirs = ref.dims;
    if (!theirs) {
      if (ours) c.oursOnly += ours.filter((d) => typeof d === 'number').length;
      continue;
    }
    if (!ours) {
      c.theirsOnly += theirs.filter((d) => typeof d === 'number').length;
      continue;
    }
    if (ours.length !== theirs.length) {
      c.mismatches.push(`${label}: ${name} rank [${ours}] vs [${theirs}]`);
      continue;
    }
    ours.forEach((d, i) => {
      const t = theirs[i];
      if (typeof d === 'number' && typeof t === 'number') {
        c.bothKnown++;
        if (d !== t) c.mismatches.push(`${label}: ${name} [${ours.map(String)}] vs [${theirs.map(String)}]`);
      } else if (typeof d === 'number') c.oursOnly++;
      else if (typeof t === 'number') c.theirsOnly++;
    });
  }
  // One message per value is enough.
  c.mismatches = [...new Set(c.mismatches)];
  return c;
}
