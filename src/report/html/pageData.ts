/**
 * The data a report page carries: the saved report reduced to what the page shows, in compact form. Built in Node
 * (viewModel.ts), read by the page's script (viewer/); shared by both.
 */

export type UnitStatus = 'kept' | 'removed';

/** Groups up to this many units show every unit's score, ranked; larger ones a histogram of the scores. */
export const RANKED_SCORES_MAX_UNITS = 256;

export interface PageGraph {
  /** Which producer's graph, for 'average' coupling (one graph per producer); absent for a single graph. */
  producer?: string;
  degrees: number[];
  /** Edges at τ (the strongest, see `total`): flat [i0, j0, i1, j1, …] unit indices and their weights. */
  edges?: { pairs: number[]; weights: number[] };
  /** All edges at τ, drawn or not. */
  total: number;
}

export interface PageGroup {
  id: number;
  /** A short name: the first producer, and how many more. */
  label: string;
  producers: string[];
  kind: 'dense' | 'conv';
  units: number;
  kept: number;
  declined?: string;
  method?: string;
  iterations?: number;
  converged?: boolean;
  components?: number;
  edges?: number;
  density?: number;
  note?: string;
  layer?: { params: [number, number]; macs: [number, number] };
  /** Scored groups: one character per unit, '1' kept and '0' removed. */
  status?: string;
  /** Scored groups: each unit's score, to 4 significant digits. */
  scores?: number[];
  /** The score between removed and kept units, where the ranking cut the group. */
  cut?: number;
  graphs?: PageGraph[];
  /** Fraction of calibration samples on which each unit was active. */
  activeFraction?: number[];
}

export interface PageFigure {
  label: string;
  before: number;
  after: number;
  /** How to print the numbers: a count (1.2M), milliseconds, or a fraction as a percentage. */
  format: 'count' | 'ms' | 'percent';
  /** True when a smaller `after` is better (params, latency); false for accuracy. */
  lowerIsBetter: boolean;
}

export interface PageData {
  title: string;
  input: string;
  output: string;
  /** The headline numbers, before → after. */
  figures: PageFigure[];
  /** The run's options as label/value pairs, in the order the CLI lists them. */
  options: [string, string][];
  /** Where the page should say something about the run as a whole (an unmet target, validation notes). */
  notices: string[];
  keep: 'central' | 'peripheral';
  threshold: number;
  groups: PageGroup[];
  validation?: {
    ep: string;
    data: string;
    outputs: { name: string; shapesMatch: boolean; maxAbs: number | null; meanAbs: number | null; maxRel: number | null; meanRel: number | null; top1Agreement?: number }[];
    latency: { batch: number; originalMs: number; prunedMs: number; ratio: number }[];
  };
  finetune?: {
    mode: string;
    bestEpoch: number;
    initialAccuracy: number;
    history: { epoch: number; loss: number; accuracy: number; valLoss?: number; valAccuracy?: number }[];
  };
}
