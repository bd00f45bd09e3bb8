import type { ProducerRows } from './channelVectors.js';
import type { LazyUnitVectors } from './scoring/index.js';

/**
 * Turns each producer's output-channel rows into one vector per group unit, the shape the scorer takes (one n × d
 * matrix per producer, n = the group's units). A unit made of several rows (an attention head, a grouped conv's
 * group) is the concatenation of its rows. A unit a producer does not cover (the other branches of a Concat) gets a
 * zero vector there: it stays zero after normalisation, so under 'concat' coupling units of different branches are
 * compared only through the producers they share, and the branches form separate graph components.
 * Lazy: a producer's weights are read when the scorer loads its vectors and dropped after, so a group spanning every
 * layer of an LLM (the residual stream) never holds more than one layer's weights. The usual case, row j is unit j,
 * passes the rows through without a copy.
 */
export function unitVectors(units: number, producers: readonly ProducerRows[]): LazyUnitVectors[] {
  return producers.map((p) => {
    if (p.n === units && p.unitOf.every((u, row) => u === row)) return { n: units, d: p.d, load: () => ({ rows: p.rows(), n: units, d: p.d }) };
    const rowsOfUnit: number[][] = Array.from({ length: units }, () => []);
    p.unitOf.forEach((u, row) => rowsOfUnit[u]!.push(row));
    const width = Math.max(1, ...rowsOfUnit.map((r) => r.length)) * p.d;
    const load = () => {
      const rows = p.rows();
      const out = new Float32Array(units * width);
      rowsOfUnit.forEach((of, u) => of.forEach((row, k) => out.set(rows.subarray(row * p.d, (row + 1) * p.d), u * width + k * p.d)));
      return { rows: out, n: units, d: width };
    };
    return { n: units, d: width, load };
  });
}
