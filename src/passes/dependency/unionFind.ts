/**
 * Union-find over channel atoms. An atom is one position along one channel axis as first seen (a producer's output
 * channel, a segment of an untracked tensor); rules union atoms that must be removed together (a residual Add's two
 * operands at the same index, the channels of one attention head). The classes left at the end are the units a
 * group can keep or drop.
 */
export class UnionFind {
  private parent = new Int32Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** `n` new singleton atoms; returns the first id. */
  add(n: number): number {
    const first = this.count;
    if (first + n > this.parent.length) {
      const grown = new Int32Array(Math.max(this.parent.length * 2, first + n));
      grown.set(this.parent.subarray(0, first));
      this.parent = grown;
    }
    for (let i = 0; i < n; i++) this.parent[first + i] = first + i;
    this.count += n;
    return first;
  }

  find(a: number): number {
    const p = this.parent;
    let r = a;
    while (p[r] !== r) r = p[r]!;
    // Path compression keeps later finds near-constant.
    while (p[a] !== r) {
      const next = p[a]!;
      p[a] = r;
      a = next;
    }
    return r;
  }

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // The smaller id stays the representative, so classes are named by the atom seen first.
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}
