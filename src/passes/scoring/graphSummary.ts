import type { SparseGraph } from './sparseGraph.js';

/** Graphs with more units than this keep only their degrees: a force layout of more nodes is unreadable. */
export const DRAWN_GRAPH_MAX_UNITS = 2000;

/** The most edges kept for drawing a graph of n units: enough for its structure, bounded for the report's size. */
export function drawnEdgeLimit(n: number): number {
  return Math.max(1000, 4 * n);
}

/**
 * What a report keeps of one similarity graph at τ, so the graph can be drawn or its degrees plotted later without
 * the weights. Unit indices are the group's units.
 */
export interface GraphSummary {
  /** Neighbours of each unit at τ (every edge counted, drawn or not). */
  degrees: number[];
  /**
   * Graphs of at most DRAWN_GRAPH_MAX_UNITS units: the strongest edges (all of them up to drawnEdgeLimit(n)),
   * strongest first, ties by index, as flat index pairs [i0, j0, i1, j1, …] with i < j, and their edge weights
   * rounded to 3 decimals (1 for an unweighted graph). The graph's edge count is the sum of `degrees` over 2.
   */
  edges?: { pairs: number[]; weights: number[] };
}

/** Degrees of every graph; the strongest edges of graphs small enough to draw. */
export function summarizeGraph(graph: SparseGraph): GraphSummary {
  const degrees = Array.from(graph.degrees());
  if (graph.n > DRAWN_GRAPH_MAX_UNITS) return { degrees };
  const m = graph.edgeCount;
  const from = new Uint32Array(m);
  const to = new Uint32Array(m);
  const weight = new Float32Array(m);
  let e = 0;
  graph.forEachEdge((i, j, w) => {
    from[e] = i;
    to[e] = j;
    weight[e++] = w;
  });
  // forEachEdge visits (i, j) in index order, so a stable sort by weight breaks ties by index.
  const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => weight[b]! - weight[a]!);
  const shown = order.slice(0, drawnEdgeLimit(graph.n));
  return {
    degrees,
    edges: {
      pairs: shown.flatMap((k) => [from[k]!, to[k]!]),
      weights: shown.map((k) => Math.round(weight[k]! * 1000) / 1000),
    },
  };
}
