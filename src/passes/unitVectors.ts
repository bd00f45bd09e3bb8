import type { ProducerRows } from './channelVectors.js';
import type { UnitVectors } from './scoring/index.js';

/**
 * Turns each producer's output-channel rows into one vector per group unit, the shape the scorer takes (one n × d
 * matrix per producer, n = the group's units). A unit made of several rows (an attention head, a grouped conv's
 * group) is the concatenation of its rows. A unit a producer does not cover (the other branches of a Concat) gets a
 * zero vector there: it stays zero after normalisation, so under 'concat' coupling units of different branches are
 * compared only through the producers they share, and the branches form separate graph components.
 * The usual case, row j is unit j, passes the rows through without a copy.
 */
export function unitVectors(units: number, producers: readonly ProducerRows[]): UnitVectors[] {
  return producers.map((p) => {
    if (p.n === units && p.unitOf.every((u, row) => u === row)) return { rows: p.rows, n: units, d: p.d };
    const rowsOfUnit: number[][] = Array.from({ length: units }, () => []);
    p.unitOf.forEach((u, row) => rowsOfUnit[u]!.push(row));
    const width = Math.max(1, ...rowsOfUnit.map((r) => r.length)) * p.d;
    const out = new Float32Array(units * width);
    rowsOfUnit.forEach((rows, u) => rows.forEach((row, k) => out.set(p.rows.subarray(row * p.d, (row + 1) * p.d), u * width + k * p.d)));
    return { rows: out, n: units, d: width };
  });
}
