import type { Graph } from './graph.js';
import type { Value } from './value.js';

/**
 * The KV-cache contract of decoder exports (optimum, torch.onnx.export, onnxruntime's model builder): graph inputs
 * `past_key_values.{i}.key|value` [batch, kv_heads, past_sequence_length, head_dim] paired with graph outputs
 * `present.{i}.key|value` [batch, kv_heads, total_sequence_length, head_dim]. These named pairs are the only graph
 * inputs and outputs pruning may change (their KV-heads axis), and the past length is what MACs per token set to 0.
 */
export interface CachePair {
  readonly layer: number;
  readonly kind: 'key' | 'value';
  readonly past: Value;
  /** The matching graph output; undefined when the model does not return it. */
  readonly present: Value | undefined;
}

/** Axis of the KV heads in a cache tensor. */
export const CACHE_HEADS_AXIS = 1;
/** Axis of the sequence (past / total length) in a cache tensor. */
export const CACHE_LENGTH_AXIS = 2;

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/** The graph's cache inputs (rank-4, as the contract declares them) with their paired outputs, in input order. */
export function cachePairs(graph: Graph): CachePair[] {
  const outputs = new Map(graph.outputs.map((v) => [v.name, v]));
  const pairs: CachePair[] = [];
  for (const past of graph.inputs) {
    const m = PAST.exec(past.name);
    if (!m || past.initializer || past.shape?.length !== 4) continue;
    const kind = m[2] as 'key' | 'value';
    pairs.push({ layer: Number(m[1]), kind, past, present: outputs.get(`present.${m[1]}.${kind}`) });
  }
  return pairs;
}
