/** Running models on onnxruntime: sessions with an execution-provider choice, validation, the doctor report, data. */
export { openSession, EP_CHOICES, type EpChoice, type ExecutionProvider, type OpenSessionOptions, type OpenedSession } from './session.js';
export { probeProvider, type ProviderName, type ProviderProbe } from './providers.js';
export { validateModels, type ValidateOptions, type ValidationReport, type ModelFigures } from './validate.js';
export { formatValidationReport } from './formatReport.js';
export { doctor, formatDoctorReport, type DoctorReport } from './doctor.js';
export type { OutputComparison } from './compare.js';
export type { LatencyPoint, Timing } from './latency.js';
export * from './data/index.js';
export * from './calibration/index.js';
export { evaluateModel, formatEvaluation, type EvaluateOptions, type EvaluationReport, type PerplexityFigures } from './evaluate.js';
