import type { PruneReport } from '../../src/passes/pruneReport.js';
import type { LatencyTargetReport } from '../../src/passes/policy/latencyTarget.js';
import type { OrtLatencyMeter } from '../../src/runtime/layerCosts.js';
import type { LatencyComparison } from '../../src/runtime/latency.js';
import { formatTable, humanCount } from './table.js';

/** The table and totals `prune` prints: groups pruned, params and MACs before → after, what --scope left out. */
export function summarize(r: PruneReport): string {
  const pruned = r.groups.filter((g) => !g.declined);
  const rows = pruned.map((g) => [
    g.producers.length > 2 ? `${g.producers.slice(0, 2).join(', ')} +${g.producers.length - 2}` : g.producers.join(', '),
    g.kind, `${g.kept.length}/${g.channels}`, `${(100 * (g.removedRatio ?? g.removed.length / g.channels)).toFixed(1)}%`,
    g.layer ? `${humanCount(g.layer.params.before)} → ${humanCount(g.layer.params.after)}` : '',
    g.layer ? `${humanCount(g.layer.macs.before)} → ${humanCount(g.layer.macs.after)}` : '',
    g.method ?? '', !g.method?.endsWith('eigenvector') ? '' : g.converged === false ? 'no' : String(g.iterations ?? ''), shorten(g.note ?? '', 60),
  ]);
  const skipped = r.groups.length - pruned.length;
  const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
  // What --scope left out: "12 conv groups" (the report counts only groups --layers / --exclude would keep).
  const outside = Object.entries(r.outOfScope ?? {}).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind} group${n === 1 ? '' : 's'}`).join(' and ');
  const nothing = outside ? `no group was pruned: --scope ${r.scope} left no ${r.scope} group to prune; --scope all would prune ${outside}` : r.residualKept ? 'no group was pruned: every prunable group in scope is a residual stream' : 'no group was pruned';
  return [
    rows.length ? formatTable(['group (producers)', 'kind', 'kept', 'removed', 'params', 'MACs', 'method', 'iters', 'note'], rows) : nothing,
    '',
    ...(r.rounding ? [`kept counts rounded: ${r.rounding.reason}`] : []),
    `params ${humanCount(r.params.before)} → ${humanCount(r.params.after)} (${pct(r.params.after, r.params.before)}),  MACs ${humanCount(r.macs.before)} → ${humanCount(r.macs.after)} (${pct(r.macs.after, r.macs.before)})`,
    `${pruned.length} group(s) pruned, ${skipped} left alone (see --report or \`onnx-cprune inspect --groups\` for why)`,
    ...(rows.length && outside ? [`--scope all would also prune ${outside}`] : []),
    ...(r.residualKept ? [`${r.residualKept} residual stream${r.residualKept === 1 ? '' : 's'} kept at full width (--prune-residual prunes ${r.residualKept === 1 ? 'it' : 'them'})`] : []),
  ].join('\n');
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** What --target-latency reached and how its lookup table was built. */
export function describeLatencyTarget(t: LatencyTargetReport, m: OrtLatencyMeter): string {
  const where = t.table.path ? `, lookup table ${t.table.path}` : '';
  const clock = m.clock === 'cpu' ? 'CPU time of single-threaded runs' : 'wall time';
  return [
    `latency target ${t.fraction} of the original on ${(m.ep ?? 'cpu').toUpperCase()} at batch ${m.batch}: predicted ${t.predicted.toFixed(3)}, measured ${t.measured.toFixed(3)} (${t.originalMs.toFixed(2)} → ${t.prunedMs.toFixed(2)} ms, ${clock})${t.met ? '' : ', NOT MET'}`,
    `  ${t.attempts.length} allocation(s) timed; lookup table: ${t.table.measured} width(s) measured now (${t.table.subGraphs} probe(s) on a sub-graph, ${t.table.wholeModel} on the whole model; ${t.table.pairs} pair(s) of groups sharing nodes), ${t.table.cached} from the cache${where}`,
  ].join('\n');
}

/** The latency lines of the summary: per batch size, original → pruned median and their ratio. */
export function formatLatency(l: LatencyComparison): string {
  const threads = l.threads > 0 ? `${l.threads} thread${l.threads > 1 ? 's' : ''}` : 'default threads';
  return [`latency on ${l.ep.toUpperCase()} (${threads}, median of runs, original → pruned):`,
    ...l.points.map((p) => `  batch ${String(p.batch).padEnd(4)} ${p.original.medianMs.toFixed(2)} → ${p.pruned.medianMs.toFixed(2)} ms (${p.ratio.toFixed(3)}×)`)].join('\n');
}
