/** Calibration: running a model on samples to measure its units' activations (statistics for the pruning criteria). */
export { collectCalibration, DEFAULT_CALIBRATION_SAMPLES, type CalibrationOptions, type CalibrationResult } from './collect.js';
export { GroupAccumulator, type SiteSpec } from './accumulator.js';
export { loadSamples, type SampleBatches, type SampleOptions } from './samples.js';
export { loadTokenWindows, tokenFeeds, tokenInputs, vocabularySize, DEFAULT_WINDOW, type TokenInputs, type TokenWindows, type TokenWindowOptions } from './tokens.js';
