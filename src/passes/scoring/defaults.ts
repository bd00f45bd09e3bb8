import type { ScoringMethod } from './scoreChannels.js';

/**
 * The criterion `prune --calib` uses when no --method is given: the one issue 12's experiment (bench/results/lm.md)
 * found keeps models best without fine-tuning — the lowest and steadiest perplexity of the byte-level LM at every
 * ratio. Without calibration data the default stays the paper's eigenvector centrality.
 */
export const CALIBRATED_DEFAULT_METHOD: ScoringMethod = 'flap';

/**
 * Whether `prune --calib` adds bias compensation when neither --compensate nor --no-compensate is given: with `flap`
 * only. FLAP removes the units whose output varies least, which is what a constant bias can stand in for; with the
 * other criteria the same experiment measured it as neutral to harmful (far worse on a conv net pruned in every
 * layer), so it is theirs to ask for.
 */
export function compensatesByDefault(method: ScoringMethod): boolean {
  return method === 'flap';
}
