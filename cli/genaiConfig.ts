import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomically } from '../src/ir/save.js';
import type { DecoderReport, SizeChange } from '../src/passes/pruneReport.js';

/** onnxruntime-genai's config, beside a model exported by its model builder. */
export const GENAI_CONFIG = 'genai_config.json';

/** genai_config.json's `model.decoder` fields for the sizes a prune report gives. */
const FIELDS: readonly [keyof DecoderReport['sizes'], string][] = [
  ['numAttentionHeads', 'num_attention_heads'],
  ['numKeyValueHeads', 'num_key_value_heads'],
  ['hiddenSize', 'hidden_size'],
  ['intermediateSize', 'intermediate_size'],
];

/** The sizes that changed, as genai_config.json names them. */
function changes(d: DecoderReport): [string, SizeChange][] {
  return FIELDS.flatMap(([key, field]) => {
    const s = d.sizes[key];
    return s && s.before !== s.after ? [[field, s] as [string, SizeChange]] : [];
  });
}

/**
 * A genai_config.json with `model.decoder`'s sizes set to the pruned ones. Only fields the config already has are
 * set (onnxruntime-genai refuses keys it does not know); the others are returned as `missing`.
 */
export function updateGenaiConfig(config: unknown, d: DecoderReport): { config: unknown; set: string[]; missing: string[] } {
  const decoder = (config as { model?: { decoder?: Record<string, unknown> } } | null)?.model?.decoder;
  const set: string[] = [];
  const missing: string[] = [];
  const copy = structuredClone(config) as { model: { decoder: Record<string, unknown> } };
  for (const [field, s] of changes(d)) {
    if (decoder && Object.hasOwn(decoder, field)) {
      copy.model.decoder[field] = s.after;
      set.push(field);
    } else {
      missing.push(field);
    }
  }
  return { config: copy, set, missing };
}

/**
 * After pruning a decoder: writes genai_config.json beside the output with the new sizes when one is beside the
 * input (never over the input's own), and returns the summary lines: the new cache shape per layer, and what a user
 * must change by hand (no config, or fields it does not have). Warnings go to stderr; the model is already saved.
 */
export function writeGenaiConfig(input: string, output: string, d: DecoderReport | undefined): string[] {
  if (!d) return [];
  const lines = [cacheLine(d), ...d.notes.map((n) => `runtime config: ${n}`)];
  const changed = changes(d);
  const describe = (fields: readonly string[]) => changed.filter(([f]) => fields.includes(f)).map(([f, s]) => `${f} ${s.before} → ${s.after}`).join(', ');
  const source = join(dirname(resolve(input)), GENAI_CONFIG);
  const target = join(dirname(resolve(output)), GENAI_CONFIG);
  const all = changed.map(([f]) => f);
  if (!changed.length) return lines;
  if (!existsSync(source)) return [...lines, `runtime config: no ${GENAI_CONFIG} beside the input; set ${describe(all)}`];
  if (source === target) {
    process.stderr.write(`onnx-cprune: warning: ${GENAI_CONFIG} beside the output is the input's own, left unchanged: set ${describe(all)}\n`);
    return lines;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(source, 'utf8'));
  } catch (e) {
    process.stderr.write(`onnx-cprune: warning: ${source} is not readable JSON (${(e as Error).message}), not rewritten: set ${describe(all)}\n`);
    return lines;
  }
  const { config, set, missing } = updateGenaiConfig(parsed, d);
  writeFileAtomically(target, JSON.stringify(config, null, 2) + '\n');
  lines.push(`wrote ${target}: ${describe(set) || 'nothing to change'}`);
  if (missing.length) lines.push(`runtime config: ${GENAI_CONFIG} has no ${missing.join(', ')}; set ${describe(missing)} where your runtime reads it`);
  return lines;
}

/** `KV cache: past_key_values.{i}.key|value [batch_size, 1, past_sequence_length, 16]` (per layer if they differ). */
function cacheLine(d: DecoderReport): string {
  const shape = (l: DecoderReport['cache'][number]) => `[${(l.key ?? l.value ?? []).map((x) => x ?? '?').join(', ')}]`;
  const shapes = new Set(d.cache.map(shape));
  const heads = d.uniformHeads ? 'uniform heads' : 'heads per layer';
  if (shapes.size === 1) return `KV cache (${heads}): past_key_values.*.key|value ${[...shapes][0]} in every layer`;
  return `KV cache (${heads}): ${d.cache.map((l) => `layer ${l.layer} ${shape(l)}`).join(', ')}`;
}
