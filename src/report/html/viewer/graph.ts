import * as Plot from '@observablehq/plot';
import { forceLink, forceManyBody, forceSimulation, forceX, forceY, type SimulationNodeDatum } from 'd3';
import type { PageGraph } from '../pageData.js';
import { STATUS_COLORS } from './dom.js';
import { unitTitle, type Unit } from './charts.js';

interface Placed extends Unit, SimulationNodeDatum {
  radius: number;
}

interface Edge {
  source: number;
  target: number;
  weight: number;
}

/**
 * Positions from d3-force: edges pull similar units together, every unit repels the others, and a weak pull to the
 * centre keeps components and isolated units in view. d3 starts from a fixed spiral, so a page always draws the
 * same picture.
 */
function layout(units: readonly Unit[], edges: readonly Edge[]): Placed[] {
  const maxScore = Math.max(...units.map((u) => u.score), 0);
  // Smaller dots for more units, so that a large group is not one blot; the area grows with the score.
  const largest = Math.max(3, Math.min(9, 64 / Math.sqrt(units.length)));
  const smallest = Math.max(1.5, largest / 3);
  const nodes: Placed[] = units.map((u) => ({ ...u, radius: smallest + (largest - smallest) * Math.sqrt(maxScore > 0 ? Math.max(u.score, 0) / maxScore : 0) }));
  const links = edges.map((e) => ({ ...e }));
  const simulation = forceSimulation(nodes)
    .force('link', forceLink<Placed, Edge>(links).distance((e) => 12 + 30 * (1 - e.weight)))
    .force('charge', forceManyBody().strength(-12).theta(1.2).distanceMax(200))
    .force('x', forceX(0).strength(0.04))
    .force('y', forceY(0).strength(0.04))
    .stop();
  // d3's default 300 steps for small graphs; fewer for large ones, so a 2000-unit group lays out in seconds, not a minute.
  const ticks = Math.round(Math.max(60, Math.min(300, 150_000 / Math.max(1, units.length))));
  simulation.alphaDecay(1 - Math.pow(simulation.alphaMin(), 1 / ticks)).tick(ticks);
  return nodes;
}

/** The similarity graph at τ: one dot per unit (sized by its score, coloured kept/removed), its strongest edges. */
export function graphChart(graph: PageGraph, units: readonly Unit[], width: number): SVGSVGElement | HTMLElement {
  const pairs = graph.edges?.pairs ?? [];
  const weights = graph.edges?.weights ?? [];
  const edges: Edge[] = weights.map((weight, k) => ({ source: pairs[2 * k]!, target: pairs[2 * k + 1]!, weight }));
  const nodes = layout(units, edges);
  const at = (i: number): Placed => nodes[i]!;
  // Many edges drawn over each other turn grey anyway: each is fainter the more there are.
  const fade = Math.min(1, 30 / Math.sqrt(edges.length + 1));
  return Plot.plot({
    width,
    height: width,
    inset: 10,
    x: { axis: null },
    y: { axis: null },
    color: { domain: ['kept', 'removed'], range: [STATUS_COLORS.kept, STATUS_COLORS.removed], legend: true },
    marks: [
      Plot.link(edges, {
        x1: (e: Edge) => at(e.source).x, y1: (e: Edge) => at(e.source).y, x2: (e: Edge) => at(e.target).x, y2: (e: Edge) => at(e.target).y,
        stroke: '#555', strokeOpacity: (e: Edge) => fade * (0.3 + 0.6 * Math.max(0, Math.min(1, e.weight))), strokeWidth: 0.8, className: 'edges',
      }),
      Plot.dot(nodes, {
        x: 'x', y: 'y', r: { value: (u: Placed) => u.radius, scale: null }, fill: 'status', stroke: 'white', strokeWidth: 0.5,
        title: unitTitle, className: 'units',
      }),
    ],
  });
}
