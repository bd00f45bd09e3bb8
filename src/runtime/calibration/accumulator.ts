import { fail } from '../../ir/errors.js';
import { ACTIVE_EPS, gramIndex, type CalibrationStats, type SiteStats } from '../../passes/calibrationStats.js';
import { upperGramBlocks } from '../../passes/scoring/gram.js';

/** One tensor a group's consumers read: its name, channel axis and the group unit of each position on that axis. */
export interface SiteSpec {
  readonly value: string;
  readonly axis: number;
  /** Unit of each position along `axis` (−1: not this group's). */
  readonly unitOf: Int32Array;
  /** Also sum each sample position over the samples (channels-first maps read by a Conv: `SiteStats.map`). */
  readonly keepMap?: boolean;
}

/**
 * Streams one group's calibration statistics, batch by batch, without keeping activations: per site and position
 * the sums of a, |a| and a²; per sample and unit the largest |a| (for liveness); optionally the Gram of the units'
 * activation vectors, accumulated in float64 from each batch's block products.
 */
export class GroupAccumulator {
  private readonly sites: {
    spec: SiteSpec; count: number; sum: Float64Array; sumAbs: Float64Array; sumSq: Float64Array; width: number | undefined;
    map?: { dims: number[]; sum: Float64Array; samples: number };
  }[];
  private readonly maxAbs: Float64Array[] = [];
  private readonly gram: Float64Array | undefined;
  private gramNote: string | undefined;
  private samples = 0;
  /** Samples in the current batch. */
  private batch = 0;

  constructor(readonly units: number, sites: readonly SiteSpec[], opts: { gram: boolean }) {
    this.sites = sites.map((spec) => {
      const k = spec.unitOf.length;
      return { spec, count: 0, sum: new Float64Array(k), sumAbs: new Float64Array(k), sumSq: new Float64Array(k), width: unitWidth(spec.unitOf, units) };
    });
    const unequal = this.sites.find((s) => s.width === undefined);
    if (!opts.gram) this.gramNote = 'not collected';
    else if (unequal) this.gramNote = `units take unequal numbers of positions in '${unequal.spec.value}': their activation vectors do not line up`;
    else this.gram = new Float64Array((units * (units + 1)) / 2);
  }

  /** Starts a batch of `batch` samples (call before the batch's `add`s). */
  beginBatch(batch: number): void {
    for (let s = 0; s < batch; s++) this.maxAbs.push(new Float64Array(this.units));
    this.samples += batch;
    this.batch = batch;
  }

  /**
   * Adds site `index`'s values for the current batch: `data` in row-major order with shape `dims`, whose axis 0 holds
   * the batch's samples (or samples × rows, as a [b·s, C] reshape gives).
   */
  async add(index: number, data: ArrayLike<number>, dims: readonly number[]): Promise<void> {
    const site = this.sites[index]!;
    const { axis, unitOf, value } = site.spec;
    const k = dims[axis];
    if (k !== unitOf.length) fail(`calibration: '${value}' has ${k} positions on axis ${axis}, the analysis expects ${unitOf.length}`);
    if (axis === 0) fail(`calibration: '${value}' carries its channels on axis 0, where the samples are expected`);
    const rows0 = dims[0]!;
    if (rows0 % this.batch !== 0) fail(`calibration: '${value}' has ${rows0} rows for a batch of ${this.batch} samples`);
    const outer = dims.slice(0, axis).reduce((p, d) => p * d, 1);
    const inner = dims.slice(axis + 1).reduce((p, d) => p * d, 1);
    const outerPerSample = outer / this.batch;
    const firstSample = this.maxAbs.length - this.batch;
    const { sum, sumAbs, sumSq } = site;
    for (let o = 0; o < outer; o++) {
      const maxRow = this.maxAbs[firstSample + Math.floor(o / outerPerSample)]!;
      for (let p = 0; p < k; p++) {
        const base = (o * k + p) * inner;
        let s = 0, sa = 0, sq = 0, m = 0;
        for (let i = 0; i < inner; i++) {
          const x = data[base + i]!;
          const ax = Math.abs(x);
          s += x;
          sa += ax;
          sq += x * x;
          if (ax > m) m = ax;
        }
        sum[p] += s;
        sumAbs[p] += sa;
        sumSq[p] += sq;
        const u = unitOf[p]!;
        if (u >= 0 && m > maxRow[u]!) maxRow[u] = m;
      }
    }
    site.count += outer * inner;
    if (site.spec.keepMap) addMap(site, data, dims, this.batch);
    if (this.gram && site.width) await this.addGram(site.spec, site.width, data, outer, k, inner);
  }

  /** G += MᵀM-style block products of this batch's unit-major activation matrix (n × outer·inner·width). */
  private async addGram(spec: SiteSpec, width: number, data: ArrayLike<number>, outer: number, k: number, inner: number): Promise<void> {
    const n = this.units;
    const d = outer * inner * width;
    const rows = new Float32Array(n * d);
    const seen = new Int32Array(n);
    for (let p = 0; p < k; p++) {
      const u = spec.unitOf[p]!;
      if (u < 0) continue;
      const t = seen[u]++;
      for (let o = 0; o < outer; o++) {
        const src = (o * k + p) * inner;
        const dst = u * d + o * inner * width;
        for (let i = 0; i < inner; i++) rows[dst + i * width + t] = data[src + i]!;
      }
    }
    const gram = this.gram!;
    await upperGramBlocks({ rows, n, d }, (r0, r1, block) => {
      const w = n - r0;
      for (let i = r0; i < r1; i++) {
        const off = gramIndex(n, i, i);
        const b = (i - r0) * w - r0;
        for (let j = i; j < n; j++) gram[off + j - i] += block[b + j]!;
      }
    });
  }

  /** The statistics of every sample added. */
  finish(): CalibrationStats {
    const n = this.units;
    const sq = new Float64Array(n);
    const sum = new Float64Array(n);
    const sumAbs = new Float64Array(n);
    const count = new Float64Array(n);
    const sites: SiteStats[] = [];
    for (const s of this.sites) {
      s.spec.unitOf.forEach((u, p) => {
        if (u < 0) return;
        sum[u] += s.sum[p]!;
        sumAbs[u] += s.sumAbs[p]!;
        sq[u] += s.sumSq[p]!;
        count[u] += s.count;
      });
      sites.push({ value: s.spec.value, axis: s.spec.axis, count: s.count, sum: s.sum, sumAbs: s.sumAbs, sumSq: s.sumSq, ...(s.map ? { map: s.map } : {}) });
    }
    const rms = Array.from(sq, (v, u) => (count[u]! > 0 ? Math.sqrt(v / count[u]!) : 0));
    const floor = ACTIVE_EPS * Math.max(0, ...rms);
    const activeFraction = new Float64Array(n);
    for (const row of this.maxAbs) for (let u = 0; u < n; u++) if (row[u]! > floor) activeFraction[u] += 1;
    if (this.samples > 0) for (let u = 0; u < n; u++) activeFraction[u] /= this.samples;
    const per = (v: Float64Array): Float64Array => v.map((x, u) => (count[u]! > 0 ? x / count[u]! : 0));
    return {
      samples: this.samples, units: n, mean: per(sum), meanAbs: per(sumAbs), l2: sq.map(Math.sqrt), activeFraction,
      ...(this.gram ? { gram: this.gram } : { gramNote: this.gramNote! }), sites,
    };
  }
}

/** Σ over the batch's samples of each sample position ([N, C, …] with one sample per row of axis 0). */
function addMap(site: { spec: SiteSpec; map?: { dims: number[]; sum: Float64Array; samples: number } }, data: ArrayLike<number>, dims: readonly number[], batch: number): void {
  if (site.spec.axis !== 1 || dims[0] !== batch) fail(`calibration: '${site.spec.value}' is not a channels-first map [N, C, …] of the batch's samples`);
  const per = dims.slice(1).reduce((p, d) => p * d, 1);
  if (!site.map) site.map = { dims: dims.slice(1), sum: new Float64Array(per), samples: 0 };
  else if (site.map.dims.some((d, i) => d !== dims[i + 1])) fail(`calibration: '${site.spec.value}' changes shape between batches`);
  const sum = site.map.sum;
  for (let s = 0; s < batch; s++) for (let f = 0; f < per; f++) sum[f] += data[s * per + f]!;
  site.map.samples += batch;
}

/** How many positions each unit takes at a site when that number is the same for every unit present (0 allowed). */
function unitWidth(unitOf: Int32Array, units: number): number | undefined {
  const counts = new Int32Array(units);
  for (const u of unitOf) if (u >= 0) counts[u]++;
  let width = 0;
  for (const c of counts) {
    if (c === 0) continue;
    if (width === 0) width = c;
    else if (c !== width) return undefined;
  }
  return width;
}
