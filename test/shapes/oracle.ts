import type { Graph } from '../../src/ir/graph.js';
import type { Dim } from '../../src/ir/value.js';

/** A value's element type and dims as test/oracles/onnx_shapes.py reports them (python-onnx 1.12's inference). */
export interface TypedDims {
  elemType: number | null;
  dims: Dim[] | null;
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
