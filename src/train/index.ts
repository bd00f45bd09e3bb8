/** The fine-tuning library: what `finetune` and `prune --finetune` use. */
export { finetune, loadTrainingData, type FinetuneOptions, type FinetuneProgress, type FinetuneResult } from './finetune.js';
export { finetuneLm, type LmEvalRecord, type LmFinetuneOptions, type LmFinetuneResult, type LmProgress } from './lmFinetune.js';
export type { LmTrainMode } from './lmPlan.js';
export { Executor, type ExecutorOptions } from './executor.js';
export { initTrainingBackend, activeTrainingBackend, type BackendInfo, type BackendPreference } from './backend.js';
export type { EpochRecord, TrainProgress } from './trainer.js';
export type { TrainMode } from './trainPlan.js';
