import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { sameFile } from '../src/ir/save.js';
import type { DecoderReport, SizeChange } from '../src/passes/pruneReport.js';
import type { RunFile } from './paths.js';

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

/** Where the input's genai_config.json is, and where its updated copy goes (beside the output). */
function configPaths(input: string, output: string): { source: string; target: string } {
  return { source: join(dirname(resolve(input)), GENAI_CONFIG), target: join(dirname(resolve(output)), GENAI_CONFIG) };
}

/**
 * The genai_config.json a prune may write, for the checks made before any work: one is beside the input and the
 * output goes to another folder (a decoder's new sizes are then written there).
 */
export function genaiConfigOutput(input: string, output: string): RunFile | undefined {
  const { source, target } = configPaths(input, output);
  return existsSync(source) && !sameFile(source, target) ? { path: target, what: `the updated ${GENAI_CONFIG}` } : undefined;
}

/** What a prune has to say and write about the runtime config; nothing is written here. */
export interface GenaiConfigPlan {
  /** Summary lines (the new cache shape per layer, what to change by hand, what was written). */
  lines: string[];
  /** Warnings for stderr. */
  warnings: string[];
  /** The updated genai_config.json to write beside the output. */
  file?: { path: string; text: string };
}

/**
 * After pruning a decoder: the genai_config.json to write beside the output with the new sizes when one is beside
 * the input (never over the input's own), and the summary lines: the new cache shape per layer, and what a user
 * must change by hand (no config, or fields it does not have).
 */
export function planGenaiConfig(input: string, output: string, d: DecoderReport | undefined): GenaiConfigPlan {
  if (!d) return { lines: [], warnings: [] };
  const lines = [cacheLine(d), ...d.notes.map((n) => `runtime config: ${n}`)];
  const changed = changes(d);
  const describe = (fields: readonly string[]) => changed.filter(([f]) => fields.includes(f)).map(([f, s]) => `${f} ${s.before} → ${s.after}`).join(', ');
  const { source, target } = configPaths(input, output);
  const all = changed.map(([f]) => f);
  if (!changed.length) return { lines, warnings: [] };
  if (!existsSync(source)) return { lines: [...lines, `runtime config: no ${GENAI_CONFIG} beside the input; set ${describe(all)}`], warnings: [] };
  if (sameFile(source, target)) return { lines, warnings: [`${GENAI_CONFIG} beside the output is the input's own, left unchanged: set ${describe(all)}`] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(source, 'utf8'));
  } catch (e) {
    return { lines, warnings: [`${source} is not readable JSON (${(e as Error).message}), not rewritten: set ${describe(all)}`] };
  }
  const { config, set, missing } = updateGenaiConfig(parsed, d);
  lines.push(`wrote ${target}: ${describe(set) || 'nothing to change'}`);
  if (missing.length) lines.push(`runtime config: ${GENAI_CONFIG} has no ${missing.join(', ')}; set ${describe(missing)} where your runtime reads it`);
  return { lines, warnings: [], file: { path: target, text: JSON.stringify(config, null, 2) + '\n' } };
}

/** `KV cache: past_key_values.{i}.key|value [batch_size, 1, past_sequence_length, 16]` (per layer if they differ). */
function cacheLine(d: DecoderReport): string {
  const shape = (l: DecoderReport['cache'][number]) => `[${(l.key ?? l.value ?? []).map((x) => x ?? '?').join(', ')}]`;
  const shapes = new Set(d.cache.map(shape));
  const heads = d.uniformHeads ? 'uniform heads' : 'heads per layer';
  if (shapes.size === 1) return `KV cache (${heads}): past_key_values.*.key|value ${[...shapes][0]} in every layer`;
  return `KV cache (${heads}): ${d.cache.map((l) => `layer ${l.layer} ${shape(l)}`).join(', ')}`;
}
