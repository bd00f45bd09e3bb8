/**
 * Rows [rowStart, rowEnd) of the strict upper triangle in CSR form: row i's neighbours j > i are
 * cols[ptr[i - rowStart] .. ptr[i - rowStart + 1]), with weights vals (null: every weight is 1).
 */
export interface CsrChunk {
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly ptr: Uint32Array;
  readonly cols: Uint32Array;
  readonly vals: Float32Array | null;
}

export interface Components {
  /** Component id of each node, numbered in order of each component's lowest node. */
  readonly label: Int32Array;
  readonly count: number;
  readonly sizes: number[];
}

/**
 * An undirected graph with non-negative edge weights stored sparsely: only the strict upper triangle (each edge once),
 * in row chunks as the similarity blocks produced them, so nothing the size of n×n is ever held.
 */
export class SparseGraph {
  readonly edgeCount: number;

  constructor(
    readonly n: number,
    readonly chunks: readonly CsrChunk[],
  ) {
    let expect = 0;
    let edges = 0;
    for (const c of chunks) {
      if (c.rowStart !== expect || c.rowEnd < c.rowStart || c.ptr.length !== c.rowEnd - c.rowStart + 1) throw new Error('SparseGraph: chunks must tile the rows in order');
      expect = c.rowEnd;
      edges += c.ptr[c.ptr.length - 1];
    }
    if (expect !== n) throw new Error(`SparseGraph: chunks cover ${expect} of ${n} rows`);
    this.edgeCount = edges;
  }

  get weighted(): boolean {
    return this.chunks.some((c) => c.vals !== null);
  }

  /** Fraction of the n(n−1)/2 possible edges present. */
  get density(): number {
    return this.n < 2 ? 0 : this.edgeCount / ((this.n * (this.n - 1)) / 2);
  }

  /** y += A·x (A symmetric, zero diagonal). */
  multiplyAdd(x: Float64Array, y: Float64Array): void {
    for (const { rowStart, rowEnd, ptr, cols, vals } of this.chunks) {
      for (let i = rowStart; i < rowEnd; i++) {
        const xi = x[i];
        const lo = ptr[i - rowStart];
        const hi = ptr[i - rowStart + 1];
        let acc = 0;
        if (vals) {
          for (let e = lo; e < hi; e++) {
            const j = cols[e];
            const w = vals[e];
            acc += w * x[j];
            y[j] += w * xi;
          }
        } else {
          for (let e = lo; e < hi; e++) {
            const j = cols[e];
            acc += x[j];
            y[j] += xi;
          }
        }
        y[i] += acc;
      }
    }
  }

  /** Calls f once per undirected edge, with i < j. */
  forEachEdge(f: (i: number, j: number, w: number) => void): void {
    for (const { rowStart, rowEnd, ptr, cols, vals } of this.chunks) {
      for (let i = rowStart; i < rowEnd; i++) {
        for (let e = ptr[i - rowStart]; e < ptr[i - rowStart + 1]; e++) f(i, cols[e], vals ? vals[e] : 1);
      }
    }
  }

  /** Number of neighbours of each node (weighted: the sum of its edge weights). */
  degrees(weighted = false): Float64Array {
    const deg = new Float64Array(this.n);
    this.forEachEdge((i, j, w) => {
      const v = weighted ? w : 1;
      deg[i] += v;
      deg[j] += v;
    });
    return deg;
  }

  /** Connected components (an isolated node is a component of its own, as networkx counts them). */
  components(): Components {
    const parent = Int32Array.from({ length: this.n }, (_, i) => i);
    const find = (a: number): number => {
      while (parent[a] !== a) a = parent[a] = parent[parent[a]];
      return a;
    };
    for (const { rowStart, rowEnd, ptr, cols } of this.chunks) {
      for (let i = rowStart; i < rowEnd; i++) {
        for (let e = ptr[i - rowStart]; e < ptr[i - rowStart + 1]; e++) {
          const a = find(i);
          const b = find(cols[e]);
          if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
        }
      }
    }
    const label = new Int32Array(this.n);
    const idOfRoot = new Map<number, number>();
    const sizes: number[] = [];
    for (let i = 0; i < this.n; i++) {
      const r = find(i);
      let id = idOfRoot.get(r);
      if (id === undefined) {
        id = sizes.length;
        idOfRoot.set(r, id);
        sizes.push(0);
      }
      label[i] = id;
      sizes[id]++;
    }
    return { label, count: sizes.length, sizes };
  }
}
