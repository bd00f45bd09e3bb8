import { dependencyOrder, nodeInputsDeep, type Graph } from '../../ir/graph.js';
import { CACHE_HEADS_AXIS, cachePairs, type CachePair } from '../../ir/kvCache.js';
import type { Model } from '../../ir/model.js';
import type { Node } from '../../ir/node.js';
import { inferShapes } from '../../ir/shapeInference.js';
import { NodeContext, type ModelFacts } from './context.js';
import { memberChain } from './format.js';
import { formGroups, type ChannelGroup } from './groups.js';
import { registrationGeneration, ruleOf } from './rules/index.js';
import { unprovenGroups } from './verify.js';
import { AnalysisState, editLabels, type Labels } from './state.js';

/** Everything the rewrite needs: the groups, and the per-class facts behind them (labels are class ids). */
export interface Analysis {
  readonly model: Model;
  readonly groups: ChannelGroup[];
  readonly state: AnalysisState;
  readonly classCount: number;
  /** Group of each class (-1: not in a group, never removed). */
  readonly classGroup: Int32Array;
  /** The graph, its revision and the rule registrations when analysed: any change since makes this stale. */
  readonly fingerprint: Fingerprint;
}

interface Fingerprint {
  readonly graph: Graph;
  readonly revision: number;
  readonly rules: number;
}

const cache = new WeakMap<Model, Analysis>();

/** Every channel group of the model, prunable and declined. Fills in value shapes (shape inference) as it goes. */
export function analyze(model: Model): ChannelGroup[] {
  return analysis(model).groups;
}

/** The full analysis, cached per model until the model changes (any edit bumps its graph's revision). */
export function analysis(model: Model): Analysis {
  const hit = cache.get(model);
  const now = fingerprint(model);
  if (hit && hit.fingerprint.graph === now.graph && hit.fingerprint.revision === now.revision && hit.fingerprint.rules === now.rules) return hit;
  const a = run(model);
  cache.set(model, a);
  return a;
}

export function forgetAnalysis(model: Model): void {
  cache.delete(model);
}

function fingerprint(model: Model): Fingerprint {
  return { graph: model.graph, revision: model.graph.revision, rules: registrationGeneration() };
}

function run(model: Model): Analysis {
  const { constants } = inferShapes(model);
  const facts: ModelFacts = { opset: model.opsetVersion, constants, ruleFor: ruleOf };
  const st = new AnalysisState();
  const graph = model.graph;
  const cache = seedCache(st, graph);
  for (const node of dependencyOrder(graph).order) visit(st, facts, node);
  checkOutputs(st, graph, cache);
  const classCount = canonicalize(st);
  const { groups, classGroup } = formGroups(st, classCount);
  const unproven = unprovenGroups(model, st, groups, classCount, classGroup);
  const named = groups.map((g): ChannelGroup => {
    const reason = unproven.get(g.id);
    return { ...g, members: memberChain(g.roles), ...(reason ? { prunable: false, reason } : {}) };
  });
  return { model, groups: named, state: st, classCount, classGroup, fingerprint: fingerprint(model) };
}

interface CacheLabels extends CachePair {
  /** The KV heads of the cache input: fresh atoms that the attention reading it unites with its own. */
  readonly labels: Labels;
}

/**
 * The KV-cache inputs carry their KV-heads axis like any tensor (see ir/kvCache.ts): each starts fresh atoms there,
 * which the Concat with the new keys / values (or a fused attention op) unites with the heads of its layer.
 */
function seedCache(st: AnalysisState, graph: Graph): CacheLabels[] {
  return cachePairs(graph).flatMap((p) => {
    const kv = p.past.shape![CACHE_HEADS_AXIS];
    if (typeof kv !== 'number') return [];
    const labels = st.fresh(kv);
    st.set(p.past, CACHE_HEADS_AXIS, labels);
    return [{ ...p, labels }];
  });
}

/**
 * Channels reaching a graph output would change the model's interface: declined, except the KV heads of a
 * `present.{i}.*` output that are, position by position, the heads of its `past_key_values.{i}.*` input (the cache
 * contract: the pair shrinks together and stays a cache). A cache input whose output does not follow it is declined.
 */
function checkOutputs(st: AnalysisState, graph: Graph, cache: readonly CacheLabels[]): void {
  const pairOf = new Map(cache.flatMap((c) => (c.present ? [[c.present, c] as const] : [])));
  const follows = (c: CacheLabels) => {
    const out = c.present ? st.axesOf(c.present)?.get(CACHE_HEADS_AXIS) : undefined;
    return !!out && out.length === c.labels.length && out.every((a, i) => st.atoms.find(a) === st.atoms.find(c.labels[i]!));
  };
  for (const v of graph.outputs) {
    const pair = pairOf.get(v);
    for (const [axis, labels] of st.axesOf(v) ?? []) {
      if (pair && axis === CACHE_HEADS_AXIS && follows(pair)) continue;
      st.block(labels, `its channels reach the graph output '${v.name}'`);
    }
  }
  for (const c of cache) {
    if (follows(c)) continue;
    st.block(c.labels, c.present ? `the cache input '${c.past.name}' and its output '${c.present.name}' do not carry the same KV heads` : `the cache input '${c.past.name}' has no output 'present.${c.layer}.${c.kind}'`);
  }
}

function visit(st: AnalysisState, facts: ModelFacts, node: Node): void {
  const ctx = new NodeContext(st, facts, node);
  if (node.subgraphs.size) {
    // Control flow: channels entering a branch or loop body (directly or captured from the outer scope) stop here.
    for (const v of nodeInputsDeep(node)) for (const l of st.axesOf(v)?.values() ?? []) st.block(l, `${ctx.where}: control flow (${node.opType}) uses these channels`);
    return;
  }
  const rule = ruleOf(node);
  if (!rule) {
    const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType;
    ctx.declineAll(`op ${op} (node '${node.label}') is not in the rule table`);
    return;
  }
  rule.apply(ctx);
  // Safety net: a tracked input axis the rule did not deal with would leave a stale dim behind.
  node.inputs.forEach((_, i) => {
    for (const [axis, labels] of ctx.axes(i) ?? []) {
      if (!ctx.handled.has(labels)) st.block(labels, `${ctx.where}: rule left channels on input ${i} axis ${axis} unhandled`);
    }
  });
}

/** Replaces every atom by a compact class id, in place, once per label array. */
function canonicalize(st: AnalysisState): number {
  const ids = new Map<number, number>();
  const done = new Set<Labels>();
  const fix = (l: Labels) => {
    if (done.has(l)) return;
    done.add(l);
    for (let i = 0; i < l.length; i++) {
      const r = st.atoms.find(l[i]!);
      let id = ids.get(r);
      if (id === undefined) ids.set(r, (id = ids.size));
      l[i] = id;
    }
  };
  // Roots first, so class ids follow the producers' channel order.
  for (const r of st.roots) fix(r.labels);
  for (const m of st.tracked.values()) for (const l of m.values()) fix(l);
  for (const e of st.edits) {
    editLabels(e).forEach(fix);
  }
  for (const b of st.blocks) fix(b.labels);
  for (const s of st.sums) fix(s.labels);
  for (const h of st.heads) fix(h.labels);
  for (const t of st.touches) fix(t.labels);
  for (const c of st.consumers) fix(c.labels);
  return ids.size;
}

