/**
 * The three PaddleOCR models (paddle2onnx: every weight in a Constant node, ConvTranspose, squeeze-excite, an SVTR
 * transformer with symbolic and unknown widths). Run `bash fixtures/fetch_paddleocr.sh` once to download them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/ir/load.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { alsoWith, describeWith, feedsFor, onnxCheck, PADDLEOCR_MODELS, type Feeds } from '../support/index.js';
import { expectIdentity, expectMaskedEquivalence } from './helpers/oracle.js';

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

describeWith(['paddleocr'], 'PaddleOCR models', () => {
  describe.each(Object.keys(MODELS))('PaddleOCR %s', (file) => {
    const spec = MODELS[file]!;
    let bytes: Uint8Array;
    let feeds: Feeds;
    beforeAll(() => {
      bytes = new Uint8Array(readFileSync(join(PADDLEOCR_MODELS, file)));
      feeds = feedsFor(decodeModel(bytes), { seed: 5, dims: { x: spec.input } });
    });

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
      alsoWith(['onnx'], () => expect(onnxCheck([pruned], { full: true })).toEqual([null]));
    });
  });
});
