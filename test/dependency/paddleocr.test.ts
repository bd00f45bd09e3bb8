/**
 * The three PaddleOCR models (paddle2onnx: every weight in a Constant node, ConvTranspose, squeeze-excite, an SVTR
 * transformer with symbolic and unknown widths). Run `bash fixtures/fetch_paddleocr.sh` once to download them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { onnxCheck } from './helpers/checker.js';
import { expectIdentity, expectMaskedEquivalence, randomFeeds } from './helpers/oracle.js';

const CACHE = fileURLToPath(new URL('../../fixtures/.cache/ocr-models-1.4.2/assets', import.meta.url));
const present = existsSync(join(CACHE, '..', '.complete')) ? readdirSync(CACHE).filter((f) => f.endsWith('.onnx')) : [];

/*
 * Outputs of a final Sigmoid / Softmax are judged by their logits (helpers/logits.ts). The recognizer's logits carry
 * float noise of about 1e-5..9e-5 relative: the first difference is the rounding of a consumer's shorter sum (4e-6),
 * which its hardswish clips and LayerNorm subtractions then amplify; a removed channel left in would show as 1e-2..1.
 */

/** Input sizes onnxruntime accepts, the declined groups expected, and the number of prunable ones. */
const MODELS: Record<string, { input: number[]; declined: [string, string][]; prunable: number }> = {
  'ch_PP-OCRv4_det_infer.onnx': { input: [1, 3, 64, 96], declined: [['p2o.ConvTranspose.2', "reach the graph output 'sigmoid_0.tmp_0'"]], prunable: 36 },
  'ch_PP-OCRv4_rec_infer.onnx': { input: [1, 3, 48, 160], declined: [['p2o.MatMul.24', "Softmax 'p2o.Softmax.2': normalizes across the channels"]], prunable: 26 },
  'ch_ppocr_mobile_v2.0_cls_infer.onnx': { input: [1, 3, 48, 192], declined: [['p2o.MatMul.0', "Softmax 'p2o.Softmax.0': normalizes across the channels"]], prunable: 26 },
};

if (!present.length) {
  describe('PaddleOCR models', () => {
    it.skip('not downloaded: run `bash fixtures/fetch_paddleocr.sh` to include them', () => {});
  });
}

describe.each(present.filter((f) => MODELS[f]))('PaddleOCR %s', (file) => {
  const spec = MODELS[file]!;
  const bytes = new Uint8Array(readFileSync(join(CACHE, file)));
  const feeds = randomFeeds(decodeModel(bytes), 5, { x: spec.input });

  it('finds its groups and declines only the expected ones', () => {
    const groups = analyze(decodeModel(bytes));
    const declined = groups.filter((g) => !g.prunable);
    expect(declined.map((g) => `${g.producers.map((n) => n.label)}: ${g.reason}`)).toHaveLength(spec.declined.length);
    for (const [producer, reason] of spec.declined)
      expect(declined.some((g) => g.producers.some((n) => n.label === producer) && g.reason!.includes(reason)), `${producer}: ${reason}`).toBe(true);
    expect(groups.filter((g) => g.prunable).length).toBe(spec.prunable);
  });

  it('keeping every channel gives bit-identical outputs', async () => {
    await expectIdentity(bytes, feeds);
  });

  it('pruning 30% matches the masked original, slices Constant-node weights in place, passes the checker', async () => {
    const { pruned } = await expectMaskedEquivalence(bytes, feeds, 0.3, 9);
    const m = decodeModel(pruned);
    // Weights stay in Constant nodes (sliced in their storage), none became an initializer.
    expect(m.graph.initializers.filter((v) => v.initializer!.dataType === 1 && v.initializer!.numel > 1)).toHaveLength(0);
    expect(onnxCheck([pruned])).toEqual([null]);
  });
});
