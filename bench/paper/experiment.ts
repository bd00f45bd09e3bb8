import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadModel } from '../../src/ir/load.js';
import { modelStats } from '../../src/ir/stats.js';
import type { Dataset } from '../../src/runtime/data/index.js';
import { epochsFor, ROOT, SOURCES_DIR, type Arm, type Budget, type Plan, type Train, type TransferPair } from './config.js';
import { fewShotSubset, targetData, writeSubsetNpy } from './data.js';
import type { Engine, PruneSummary } from './engine.js';
import { accuracy, features } from './evaluate.js';
import { firingNeurons } from './liveness.js';
import { keepHead, keepTrunk } from './split.js';

/** One fine-tuning run: an arm, a shot count and a seed on one transfer pair. */
export interface RunResult {
  pair: string;
  train: Train;
  arm: string;
  shots: number;
  seed: number;
  /** Top-1 on the target's full test split. */
  accuracy: number;
  /** Of the fine-tuned model (fresh head included); MACs per image. */
  params: number;
  macs: number;
  seconds: { prune: number; finetune: number; evaluate: number };
}

/** What pruning did to an arm's source model (seed 0's draw for the random arm). */
export interface ArmPruning {
  pair: string;
  arm: string;
  /** The prune report with `kept` as a count, and how many kept neurons fire on target data (of how many before). */
  summary: Omit<PruneSummary, 'groups'> & { groups: (Omit<PruneSummary['groups'][number], 'kept'> & { kept: number; firing?: number; firingBefore?: number })[] };
}

export interface ExperimentLog {
  results: RunResult[];
  prunings: ArmPruning[];
  /** Accuracy of each source model on its own test split, run by onnxruntime. */
  sourceAccuracy: Record<string, number>;
  /** Full-model vs cached-feature evaluation of one frozen-trunk run per pair (must agree). */
  evalCrossCheck: { pair: string; full: number; cached: number }[];
  seconds: number;
  /** Runs the cache took from an earlier report (reuseRuns) rather than ran. */
  reused?: { file: string; runs: number };
}

interface Job {
  pair: TransferPair;
  train: Train;
  arm: Arm;
  shots: number;
  seed: number;
  budget: Budget;
}

function jobs(plan: Plan): Job[] {
  const out: Job[] = [];
  const add = (train: Train, pairs: TransferPair[], arms: Arm[], shots: number[], budget: Budget): void => {
    for (const pair of pairs) for (const arm of arms) for (const s of shots) for (const seed of plan.seeds) out.push({ pair, train, arm, shots: s, seed, budget });
  };
  add('dense', plan.pairs, plan.denseArms, plan.shots, plan.dense);
  add('dense', plan.pairs, plan.extraArms, plan.extraShots, plan.dense);
  add('all', plan.allPairs, plan.allArms, plan.allShots, plan.all);
  return out;
}

const jobKey = (j: Job): string => [j.pair.id, j.train, j.arm.id, j.shots, j.seed, epochsFor(j.budget, j.shots), j.budget.lr, j.budget.batch].join('|');

export interface ExperimentOptions {
  /** Delete the work folder first (resume cache, pruned models, data subsets). */
  fresh?: boolean;
  /** Run nothing: collect what the cache holds. */
  reportOnly?: boolean;
  /** Run only the jobs with index ≡ worker.index (mod worker.count); the others are left to sibling processes. */
  worker?: { index: number; count: number };
  log?: (s: string) => void;
}

/** One line of `<work>/runs.jsonl`. */
interface CacheEntry {
  key: string;
  result: RunResult;
  pruning?: ArmPruning;
  crossCheck?: ExperimentLog['evalCrossCheck'][number];
  /** The earlier report this run was taken from (reuseRuns). */
  reusedFrom?: string;
}

/** What a job needs that outlives it: per-pair test features, per-arm sizes. */
interface Session {
  engine: Engine;
  work: string;
  testFeatures: Map<string, Dataset>;
  stats: Map<string, { params: number; macs: number }>;
  crossChecked: Set<string>;
  firing: Map<string, Map<string, boolean[]>>;
}

/**
 * Runs every job of the plan not already in `<work>/runs.jsonl` (so an interrupted run resumes, and worker
 * processes share their results), appending each result there as it finishes.
 */
export async function runExperiment(plan: Plan, engine: Engine, work: string, opts: ExperimentOptions = {}): Promise<ExperimentLog> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const start = performance.now();
  const cacheFile = join(work, 'runs.jsonl');
  if (opts.fresh) rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'tmp'), { recursive: true });
  const done = readCache(cacheFile);
  const todo = jobs(plan);
  const session: Session = { engine, work, testFeatures: new Map(), stats: new Map(), crossChecked: new Set(), firing: new Map() };
  const entries: CacheEntry[] = [];
  const sourceAccuracy: Record<string, number> = {};
  if (!opts.worker) {
    for (const pair of plan.pairs) {
      const file = join(SOURCES_DIR, `${pair.model}.onnx`);
      if (!existsSync(file)) throw new Error(`${file} is missing: run /usr/bin/python3 bench/paper/make_sources.py`);
      sourceAccuracy[pair.model] = await accuracy(file, (await targetData(pair.source)).test);
    }
  }
  const mine = todo.filter((_, i) => !opts.worker || i % opts.worker.count === opts.worker.index);
  const pending = mine.filter((j) => !done.has(jobKey(j))).length;
  let ran = 0;
  let ranSeconds = 0;
  for (const job of mine) {
    const cached = done.get(jobKey(job));
    if (cached || opts.reportOnly) {
      if (cached) entries.push(cached);
      continue;
    }
    const t0 = performance.now();
    const entry = await runJob(job, session);
    appendFileSync(cacheFile, JSON.stringify(entry) + '\n');
    entries.push(entry);
    ran++;
    ranSeconds += (performance.now() - t0) / 1000;
    const who = opts.worker ? `w${opts.worker.index} ` : '';
    log(`${who}[${ran}/${pending}] ${job.pair.id} train=${job.train} ${job.arm.id} ${job.shots}/class seed ${job.seed}: ` +
      `${(100 * entry.result.accuracy).toFixed(2)}% (${((performance.now() - t0) / 1000).toFixed(1)} s; ~${Math.ceil(((pending - ran) * ranSeconds) / ran / 60)} min left)`);
  }
  const prunings = new Map<string, ArmPruning>();
  for (const e of entries) if (e.pruning && !prunings.has(`${e.pruning.pair}|${e.pruning.arm}`)) prunings.set(`${e.pruning.pair}|${e.pruning.arm}`, e.pruning);
  const crossChecks = [...done.values(), ...entries].flatMap((e) => (e.crossCheck ? [e.crossCheck] : []));
  const reused = entries.filter((e) => e.reusedFrom);
  return {
    ...(reused.length ? { reused: { file: reused[0]!.reusedFrom!, runs: reused.length } } : {}),
    results: entries.map((e) => e.result),
    prunings: [...prunings.values()],
    sourceAccuracy,
    evalCrossCheck: crossChecks.filter((c, i) => crossChecks.findIndex((d) => d.pair === c.pair) === i),
    seconds: round((performance.now() - start) / 1000),
  };
}

/** Prune (once per arm, or per seed for the random arm), fine-tune on the seed's few-shot subset, evaluate. */
async function runJob(job: Job, s: Session): Promise<CacheEntry> {
  const t0 = performance.now();
  const source = join(SOURCES_DIR, `${job.pair.model}.onnx`);
  let pruned = source;
  let pruning: ArmPruning | undefined;
  if (job.arm.prune) {
    const dir = join(s.work, job.pair.id);
    mkdirSync(dir, { recursive: true });
    pruned = join(dir, `${job.arm.id}${job.arm.seeded ? `-s${job.seed}` : ''}.onnx`);
    const summaryFile = `${pruned}.summary.json`;
    if (!existsSync(pruned) || !existsSync(summaryFile)) {
      // Deterministic arms are pruned once, by whichever seed's job comes first: seed 0's calibration draw for all.
      const summary = await s.engine.prune(source, pruned, { ...job.arm.prune, seed: job.arm.seeded ? job.seed : 0 });
      writeAtomically(summaryFile, JSON.stringify(brief(summary, await firingOnTarget(s, job.pair))));
    }
    pruning = { pair: job.pair.id, arm: job.arm.id, summary: JSON.parse(readFileSync(summaryFile, 'utf8')) as ArmPruning['summary'] };
  }
  const t1 = performance.now();

  const target = await targetData(job.pair.target);
  const data = writeSubsetNpy(fewShotSubset(target.train, job.shots, job.seed), join(s.work, 'data'), `${job.pair.target}-${job.shots}shot-s${job.seed}`);
  const tuned = join(s.work, 'tmp', `tuned-${process.pid}.onnx`);
  const { lr, batch } = job.budget;
  await s.engine.finetune(pruned, data, tuned, { epochs: epochsFor(job.budget, job.shots), lr, batch, train: job.train, seed: job.seed, newHead: 10 });
  const t2 = performance.now();

  const model = loadModel(tuned);
  const statKey = `${job.pair.id}|${job.arm.id}`;
  if (!s.stats.has(statKey)) {
    const st = modelStats(model);
    s.stats.set(statKey, { params: st.params, macs: st.macs });
  }
  let acc: number;
  let crossCheck: CacheEntry['crossCheck'];
  if (job.train === 'dense') {
    // The trunk is frozen, so only the dense part needs running on the test set: on features cached per pair.
    const feats = await cachedTestFeatures(s.testFeatures, job.pair, target.test);
    keepHead(model, feats.shape[1]!);
    acc = await accuracy(model, feats);
    if (!s.crossChecked.has(job.pair.id)) {
      s.crossChecked.add(job.pair.id);
      crossCheck = { pair: job.pair.id, full: await accuracy(tuned, target.test), cached: acc };
    }
  } else {
    acc = await accuracy(model, target.test);
  }
  const t3 = performance.now();
  const result: RunResult = {
    pair: job.pair.id, train: job.train, arm: job.arm.id, shots: job.shots, seed: job.seed, accuracy: acc, ...s.stats.get(statKey)!,
    seconds: { prune: round((t1 - t0) / 1000), finetune: round((t2 - t1) / 1000), evaluate: round((t3 - t2) / 1000) },
  };
  return { key: jobKey(job), result, ...(pruning ? { pruning } : {}), ...(crossCheck ? { crossCheck } : {}) };
}

/**
 * Fills the resume cache from an earlier run's paper.json: every job of the plan that it holds under the same
 * fine-tuning budget (pair, train, arm, shots, seed) is taken from it rather than rerun. Returns how many.
 */
export function reuseRuns(plan: Plan, work: string, file: string): number {
  const old = JSON.parse(readFileSync(file, 'utf8')) as { plan: Plan } & Omit<ExperimentLog, 'seconds'>;
  mkdirSync(work, { recursive: true });
  const cacheFile = join(work, 'runs.jsonl');
  const done = readCache(cacheFile);
  const budgetOf = (p: Plan, train: Train): string => JSON.stringify(train === 'dense' ? p.dense : p.all);
  const withPruning = new Set<string>();
  const crossChecked = new Set<string>();
  let n = 0;
  for (const job of jobs(plan)) {
    const key = jobKey(job);
    if (done.has(key) || budgetOf(old.plan, job.train) !== budgetOf(plan, job.train)) continue;
    const result = old.results.find((r) => r.pair === job.pair.id && r.train === job.train && r.arm === job.arm.id && r.shots === job.shots && r.seed === job.seed);
    if (!result) continue;
    const armKey = `${job.pair.id}|${job.arm.id}`;
    const pruning = withPruning.has(armKey) ? undefined : old.prunings.find((p) => p.pair === job.pair.id && p.arm === job.arm.id);
    if (pruning) withPruning.add(armKey);
    const crossCheck = crossChecked.has(job.pair.id) ? undefined : old.evalCrossCheck.find((c) => c.pair === job.pair.id);
    if (crossCheck) crossChecked.add(job.pair.id);
    const entry: CacheEntry = { key, result, ...(pruning ? { pruning } : {}), ...(crossCheck ? { crossCheck } : {}), reusedFrom: relative(ROOT, file) };
    appendFileSync(cacheFile, JSON.stringify(entry) + '\n');
    n++;
  }
  return n;
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp-${process.pid}`, text);
  renameSync(`${path}.tmp-${process.pid}`, path);
}

/** Trunk features of the target test split under the (frozen) source trunk, computed once per pair. */
async function cachedTestFeatures(cache: Map<string, Dataset>, pair: TransferPair, test: Dataset): Promise<Dataset> {
  let f = cache.get(pair.id);
  if (!f) {
    const trunk = loadModel(join(SOURCES_DIR, `${pair.model}.onnx`));
    keepTrunk(trunk);
    f = await features(trunk, test);
    cache.set(pair.id, f);
  }
  return f;
}

function readCache(file: string): Map<string, CacheEntry> {
  const out = new Map<string, CacheEntry>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as CacheEntry;
    out.set(e.key, e);
  }
  return out;
}

/** The report without per-channel arrays; `firing` counts the kept neurons that fire on target data. */
function brief(r: PruneSummary, firing: Map<string, boolean[]>): ArmPruning['summary'] {
  return {
    params: r.params, macs: r.macs,
    groups: r.groups.map((g) => {
      const fires = g.producers.length === 1 ? firing.get(g.producers[0]!) : undefined;
      return {
        producers: g.producers, channels: g.channels, kept: g.kept.length,
        ...(fires ? { firing: g.kept.filter((k) => fires[k]).length, firingBefore: fires.filter(Boolean).length } : {}),
        ...pick(g, ['iterations', 'converged', 'components', 'density', 'note', 'declined']),
      };
    }),
  };
}

/** Dense neurons of the source model that fire on the target's training images (100 per class, seed 0). */
async function firingOnTarget(s: Session, pair: TransferPair): Promise<Map<string, boolean[]>> {
  let f = s.firing.get(pair.id);
  if (!f) {
    f = await firingNeurons(join(SOURCES_DIR, `${pair.model}.onnx`), fewShotSubset((await targetData(pair.target)).train, 100, 0));
    s.firing.set(pair.id, f);
  }
  return f;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

const round = (x: number): number => Math.round(x * 100) / 100;
