/** The page's data for a saved report (src/report/html/viewModel.ts): the cut line, unit status, headline figures. */
import { describe, expect, it } from 'vitest';
import { cutScore, pageData } from '../../src/report/html/viewModel.js';
import { REPORT_SCHEMA_VERSION, type SavedReport } from '../../src/report/index.js';

const report = (extra: Partial<SavedReport> = {}): SavedReport => ({
  schemaVersion: REPORT_SCHEMA_VERSION, input: '/m/in.onnx', output: '/m/out.onnx', method: 'eigenvector', ratio: 0.5, threshold: 0.2, scope: 'dense',
  options: { weighted: true, keep: 'central', coupling: 'concat', seed: 0, global: false, roundTo: 1, minChannels: 1, exclude: ['head*'] },
  params: { before: 1000, after: 600 }, macs: { before: 5000, after: 3000 }, timings: { analyzeMs: 1, scoreMs: 1, rewriteMs: 1 },
  groups: [
    { id: 0, producers: ['fc1', 'fc2'], kind: 'dense', channels: 4, kept: [1, 3], removed: [0, 2], method: 'eigenvector', scores: [0.1, 0.5, 0.2, 0.3456789],
      graphs: [{ degrees: [0, 1, 1, 0], edges: { pairs: [1, 2], weights: [0.3] } }] },
    { id: 1, producers: ['head'], kind: 'dense', channels: 3, kept: [0, 1, 2], removed: [], declined: 'excluded by --exclude' },
  ],
  ...extra,
});

describe('cutScore', () => {
  it('lies midway between the best removed and the worst kept score, mirrored for --keep peripheral', () => {
    expect(cutScore([0.1, 0.5, 0.2, 0.4], new Set([1, 3]), 'central')).toBeCloseTo(0.3, 12);
    expect(cutScore([0.1, 0.5, 0.2, 0.4], new Set([0, 2]), 'peripheral')).toBeCloseTo(0.3, 12);
  });

  it('is at the removed score when a unit was kept below it (a Split segment kept alive), and absent when nothing was cut', () => {
    expect(cutScore([0.1, 0.5, 0.2, 0.4], new Set([0, 1, 3]), 'central')).toBe(0.2);
    expect(cutScore([0.1, 0.5], new Set([0, 1]), 'central')).toBeUndefined();
    expect(cutScore([0.1, 0.5], new Set(), 'central')).toBeUndefined();
  });
});

describe('pageData', () => {
  it('marks every unit kept or removed, rounds scores to 4 digits, counts edges, and keeps declined groups as such', () => {
    const d = pageData(report());
    expect(d.title).toBe('in.onnx → out.onnx');
    const [g0, g1] = d.groups;
    expect(g0).toMatchObject({ label: 'fc1 +1', units: 4, kept: 2, status: '0101', scores: [0.1, 0.5, 0.2, 0.3457], cut: 0.2728 });
    expect(g0!.graphs).toEqual([{ degrees: [0, 1, 1, 0], edges: { pairs: [1, 2], weights: [0.3] }, total: 1 }]);
    expect(g1).toEqual({ id: 1, label: 'head', producers: ['head'], kind: 'dense', units: 3, kept: 3, declined: 'excluded by --exclude' });
    expect(d.options).toContainEqual(['exclude', 'head*']);
  });

  it('adds latency, accuracy and fine-tuning figures when the report has them, and the notices', () => {
    const timing = (ms: number) => ({ medianMs: ms, throughput: 1000 / ms });
    const d = pageData(report({
      target: { measure: 'macs', fraction: 0.1, reached: 0.4, met: false },
      validation: {
        original: '/m/in.onnx', pruned: '/m/out.onnx', ep: 'cpu', inputs: [], data: { source: 'x', samples: 10, sampleShape: [4], labelled: true },
        outputs: [], accuracy: { output: 'y', original: 0.9, pruned: 0.85, samples: 10 },
        latency: [{ batch: 32, original: timing(8), pruned: timing(5), ratio: 0.625 }, { batch: 1, original: timing(2), pruned: timing(1.5), ratio: 0.75 }],
        notes: ['the model has a fixed batch size of 1'],
      },
    }));
    expect(d.figures.map((f) => [f.label, f.before, f.after])).toEqual([
      ['parameters', 1000, 600], ['MACs', 5000, 3000], ['latency (batch 1, cpu)', 2, 1.5], ['accuracy (10 samples)', 0.9, 0.85],
    ]);
    expect(d.notices).toEqual([
      '--target-macs 0.1 is out of reach: the largest ratio searched leaves 40.0% of the macs.', 'the model has a fixed batch size of 1',
    ]);
  });
});
