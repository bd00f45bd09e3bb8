import { expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { OP_RULES } from '../../src/ir/shapes/rules.js';
import { describeWith, has, runPython } from '../support/index.js';

/**
 * The op signatures in src/ir/shapes/ (input and output counts, operand type bindings, attribute types) against
 * python-onnx's schema registry, every opset version it knows (up to 17): never stricter than the spec, so no
 * valid model is refused, and as strict as it where the spec has not changed since.
 */

interface SchemaVersion {
  version: number;
  inputs: [string, string][];
  minInputs: number; maxInputs: number; minOutputs: number; maxOutputs: number;
  attrs: Record<string, string>;
  constraints: Record<string, string[]>;
}

/** What opsets after the oracle's newest (17) added, which python-onnx 1.12 cannot confirm. */
const NEWER: Record<string, { attrs?: string[]; maxInputs?: number }> = {
  Cast: { attrs: ['saturate', 'round_mode'] },
  CastLike: { attrs: ['saturate', 'round_mode'] },
  QuantizeLinear: { attrs: ['saturate', 'block_size', 'output_dtype', 'precision'] },
  DequantizeLinear: { attrs: ['block_size', 'output_dtype'] },
  Split: { attrs: ['num_outputs'] },
  Resize: { attrs: ['antialias', 'axes', 'keep_aspect_ratio_policy'] },
  LpPool: { attrs: ['ceil_mode', 'dilations'] },
  AveragePool: { attrs: ['dilations'] },
  Pad: { maxInputs: 4 },
  ...Object.fromEntries(['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']
    .map((op) => [op, { attrs: ['noop_with_empty_axes'], maxInputs: 2 }])),
};
/** MeanVarianceNormalization-1 (experimental, dropped from the registry) took these. */
const EXPERIMENTAL: Record<string, string[]> = { MeanVarianceNormalization: ['across_channels', 'normalize_variance'] };

const INT_MAX = 2147483647;

// Read at collection time (the test list is the ops the oracle knows), only when it is there.
const schemas: Record<string, SchemaVersion[]> = has('onnx') ? runPython<Record<string, SchemaVersion[]>>('onnx_schemas.py', Object.keys(OP_RULES)) : {};
const known = Object.keys(OP_RULES).filter((op) => schemas[op]);

describeWith(['onnx'], 'op signatures agree with the ONNX spec (python-onnx schemas)', () => {

  it('covers the ops python-onnx knows (the others are newer than opset 17)', () => {
    expect(Object.keys(OP_RULES).filter((op) => !schemas[op]).sort()).toEqual(['BitwiseAnd', 'BitwiseNot', 'BitwiseOr', 'BitwiseXor', 'Gelu', 'GroupNormalization', 'Mish']);
  });

  it.each(known)('%s: attribute names and types', (op) => {
    const sig = OP_RULES[op]!.signature;
    for (const v of schemas[op]!) {
      for (const [name, kind] of Object.entries(v.attrs)) {
        expect([sig.attrs[name]].flat(), `${op}-${v.version} attribute ${name}`).toContain(kind);
      }
    }
    const everywhere = new Set(schemas[op]!.flatMap((v) => Object.keys(v.attrs)));
    const extra = Object.keys(sig.attrs).filter((a) => !everywhere.has(a));
    expect(extra.sort(), `${op}: attributes the oracle never had`).toEqual([...(NEWER[op]?.attrs ?? []), ...(EXPERIMENTAL[op] ?? [])].sort());
  });

  it.each(known)('%s: input and output counts', (op) => {
    const sig = OP_RULES[op]!.signature;
    const versions = schemas[op]!;
    const max = (k: 'maxInputs' | 'maxOutputs'): number => { const m = Math.max(...versions.map((v) => v[k])); return m === INT_MAX ? Infinity : m; };
    expect(sig.inputs, `${op} inputs`).toEqual([Math.min(...versions.map((v) => v.minInputs)), NEWER[op]?.maxInputs ?? max('maxInputs')]);
    expect(sig.outputs, `${op} outputs`).toEqual([Math.min(...versions.map((v) => v.minOutputs)), max('maxOutputs')]);
  });

  it.each(known)('%s: operand types bound and limited no tighter than any version', (op) => {
    const types = OP_RULES[op]!.signature.inputTypes;
    const name = (t: string): number | undefined => DataType[t.replace(/^tensor\((.*)\)$/, '$1').toUpperCase() as keyof typeof DataType];
    for (const v of schemas[op]!) {
      const at = (i: number): string | undefined => v.inputs[Math.min(i, v.inputs.length - 1)]?.[0];
      const count = Math.max(types.length, v.inputs.length);
      for (let i = 0; i < count; i++) {
        const ours = types[Math.min(i, types.length - 1)]!;
        const theirs = at(i);
        if (theirs === undefined || i >= v.maxInputs) continue;
        if (ours.allowed) {
          // Every type the spec allows here, we allow.
          const allowed = (v.constraints[theirs] ?? [theirs]).map(name);
          expect(allowed.filter((t) => !ours.allowed!.includes(t!)), `${op}-${v.version} input ${i}: types the spec allows that we refuse`).toEqual([]);
        }
        for (let j = 0; j < i; j++) {
          if (!ours.param || types[Math.min(j, types.length - 1)]!.param !== ours.param || at(j) === undefined) continue;
          expect(at(j), `${op}-${v.version}: inputs ${j} and ${i} share ${ours.param} in our signature`).toBe(theirs);
        }
      }
    }
  });
});
