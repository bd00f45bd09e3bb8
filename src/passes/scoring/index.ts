export { type UnitVectors, DEFAULT_EPS } from './types.js';
export { channelSimilarityGraph, type SimilarityGraph, type SimilarityOptions, type Coupling } from './similarity.js';
export { SparseGraph, type CsrChunk, type Components } from './sparseGraph.js';
export { summarizeGraph, DRAWN_GRAPH_MAX_UNITS, drawnEdgeLimit, type GraphSummary } from './graphSummary.js';
export { eigenvectorCentrality, type CentralityOptions, type CentralityResult, type CentralityMethod } from './eigenvector.js';
export { degreeCentrality, l1Norm, l2Norm, randomScores } from './baselines.js';
export { selectKeep, type SelectOptions } from './selectKeep.js';
export { scoreChannels, SCORING_METHODS, type ScoringMethod, type ScoreOptions, type ChannelScores } from './scoreChannels.js';
export { releaseGramSessions, type GramBackend } from './gram.js';
