export { loadModel, decodeModel } from './ir/load.js';
export { saveModel, encodeModel, type SaveOptions } from './ir/save.js';
export { Model } from './ir/model.js';
export { Graph } from './ir/graph.js';
export { Node } from './ir/node.js';
export { Value, type Dim, type Shape, type Use } from './ir/value.js';
export { Tensor } from './ir/tensor.js';
export { DataType } from './ir/dtype.js';
export { constantSource, constantFloat32, constantNumbers, type ConstantSource } from './ir/constants.js';
export { UserError } from './ir/errors.js';
export { inferShapes, type ShapeInferenceOptions, type ShapeInferenceResult, type ShapeProblem } from './ir/shapeInference.js';
export { modelStats, type ModelStats, type NodeStats, type ValueSummary } from './ir/stats.js';
export * from './train/index.js';
// The dependency engine, with its extension point `registerChannelRule` (see src/passes/dependency/README.md).
export * from './passes/dependency/index.js';
export { centralityPrune, groupsInScope, DEFAULT_PRUNE_OPTIONS, type CentralityPruneOptions, type PruneReport, type GroupReport, type Scope } from './passes/centralityPrune.js';
export {
  channelSimilarityGraph, eigenvectorCentrality, degreeCentrality, l1Norm, l2Norm, randomScores, selectKeep, scoreChannels,
  SCORING_METHODS, CRITERIA, needsCalibration, type Criterion, type ScoringMethod, type CentralityResult, type SimilarityGraph,
  type UnitVectors, type UnitActivations,
} from './passes/scoring/index.js';
export { type CalibrationStats, type SiteStats } from './passes/calibrationStats.js';
export { groupConsumers, type GroupConsumer } from './passes/consumers.js';
export * from './runtime/index.js';
export * from './report/index.js';
