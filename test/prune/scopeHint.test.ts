/**
 * On a CNN the default --scope dense prunes nothing: the report counts the prunable groups --scope left out, and the
 * CLI summary says what --scope all would prune. The oracle for the count is the analysis itself: the prunable conv
 * groups of the fixture.
 */
import { describe, expect, it } from 'vitest';
import { summarize } from '../../cli/format/pruneSummary.js';
import { decodeModel } from '../../src/ir/load.js';
import { analyze } from '../../src/passes/dependency/analyze.js';
import { fixtureBytes } from '../support/index.js';
import { prune } from './helpers.js';

describe('the out-of-scope hint', () => {
  it('--scope dense on resnet18 prunes nothing and says --scope all would prune its conv groups', async () => {
    const bytes = fixtureBytes('resnet18');
    const prunableConv = analyze(decodeModel(bytes)).filter((g) => g.prunable && g.kind === 'conv');
    // --scope all would leave the residual streams at full width (no --prune-residual): they are not counted.
    const convGroups = prunableConv.filter((g) => g.residual === undefined).length;
    expect(convGroups).toBeGreaterThan(1);
    expect(convGroups).toBeLessThan(prunableConv.length);
    const { report } = await prune(bytes, { scope: 'dense' });
    expect(report.outOfScope).toEqual({ dense: 0, conv: convGroups });
    const text = summarize(report);
    expect(text.split('\n')[0]).toBe(`no group was pruned: --scope dense left no dense group to prune; --scope all would prune ${convGroups} conv groups`);
  });

  it('counts only groups --layers would select, adds a line when something was pruned, and is absent for --scope all', async () => {
    const bytes = fixtureBytes('cnn_small');
    const groups = analyze(decodeModel(bytes)).filter((g) => g.prunable);
    const conv = groups.filter((g) => g.kind === 'conv');
    expect(conv.length).toBeGreaterThan(0);
    expect(groups.some((g) => g.kind === 'dense')).toBe(true);
    const { report } = await prune(bytes, { scope: 'dense' });
    expect(report.outOfScope).toEqual({ dense: 0, conv: conv.length });
    expect(summarize(report).split('\n').at(-1)).toBe(`--scope all would also prune ${conv.length} conv group${conv.length === 1 ? '' : 's'}`);
    const selected = await prune(bytes, { scope: 'dense', layers: [conv[0]!.producers[0]!.name] });
    expect(selected.report.outOfScope).toEqual({ dense: 0, conv: 1 });
    expect((await prune(bytes, { scope: 'all' })).report.outOfScope).toBeUndefined();
  });
});
