import type { Command } from 'commander';
import { loadModel } from '../../src/ir/load.js';
import type { Model } from '../../src/ir/model.js';
import { modelStats, type ModelStats, type ValueSummary } from '../../src/ir/stats.js';
import { analyze, formatGroups, groupsToJson } from '../../src/passes/dependency/index.js';
import { alignColumns, groupedDigits, humanBytes, humanCount } from '../format/table.js';

interface InspectOptions {
  json?: boolean;
  groups?: boolean;
}

/** What `inspect --json` prints. Field names are part of the CLI's contract; add fields, never rename them. */
export interface InspectReport {
  irVersion: number;
  opsets: Record<string, number>;
  producer: { name: string; version: string };
  nodes: number;
  opCounts: Record<string, number>;
  params: number;
  paramBytes: number;
  macs: number;
  macsBatchAssumed: boolean;
  macsPerToken: boolean;
  macsUnknown: string[];
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  perNode: ModelStats['perNode'];
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show a model\'s opsets, op counts, parameters, MACs per Conv/ConvTranspose/Gemm/MatMul, inputs and outputs')
    .argument('<model>', 'ONNX model')
    .option('--json', 'print one JSON object instead of tables')
    // Further sections (e.g. prunable channel groups) add an option here and a field + a section below.
    .option('--groups', 'list every channel group: what prunes together (members, params, MACs) and why a group is declined')
    .action((path: string, opts: InspectOptions) => {
      const model = loadModel(path);
      const report = inspectReport(model);
      const groups = opts.groups ? analyze(model) : undefined;
      process.stdout.write(opts.json
        ? JSON.stringify({ ...report, ...(groups ? groupsToJson(groups) : {}) }, null, 2) + '\n'
        : formatReport(path, report) + (groups ? '\n' + formatGroups(groups) + '\n' : ''));
    });
}

export function inspectReport(model: Model): InspectReport {
  const s = modelStats(model);
  const opsets: Record<string, number> = {};
  for (const [domain, version] of model.opsets) opsets[domain === '' ? 'ai.onnx' : domain] = version;
  return {
    irVersion: model.irVersion,
    opsets,
    producer: { name: model.producerName, version: model.producerVersion },
    nodes: s.nodes,
    opCounts: s.opCounts,
    params: s.params,
    paramBytes: s.paramBytes,
    macs: s.macs,
    macsBatchAssumed: s.macsBatchAssumed,
    macsPerToken: s.macsPerToken,
    macsUnknown: s.macsUnknown,
    inputs: s.inputs,
    outputs: s.outputs,
    perNode: s.perNode,
  };
}

/** The human-readable report: a summary block, then op counts and per-node compute as aligned tables. */
export function formatReport(path: string, r: InspectReport): string {
  const macsNote = [
    r.macsBatchAssumed ? 'batch 1 assumed' : '',
    r.macsPerToken ? 'per token: sequence 1, past 0 assumed' : '',
    r.macsUnknown.length ? `${r.macsUnknown.length} node(s) with unknown shapes not counted` : '',
  ].filter(Boolean).join('; ');
  const summary: string[][] = [
    ['model', path],
    ['ir version', String(r.irVersion)],
    ['opsets', Object.entries(r.opsets).map(([d, v]) => `${d} ${v}`).join(', ')],
    ['producer', `${r.producer.name} ${r.producer.version}`.trim() || '-'],
    ['nodes', String(r.nodes)],
    ['params', `${groupedDigits(r.params)} (${humanCount(r.params)}), ${humanBytes(r.paramBytes)}`],
    ['MACs', `${groupedDigits(r.macs)} (${humanCount(r.macs)})${macsNote ? `  [${macsNote}]` : ''}`],
    ...r.inputs.map((v, i) => [i === 0 ? 'inputs' : '', describeValue(v)]),
    ...r.outputs.map((v, i) => [i === 0 ? 'outputs' : '', describeValue(v)]),
  ];
  const ops = Object.entries(r.opCounts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const sections = [
    alignColumns(summary),
    'op counts\n' + alignColumns(ops.map(([op, n]) => ['  ' + op, String(n)]), [false, true]),
  ];
  if (r.perNode.length) {
    const rows = r.perNode.map((n) => ['  ' + n.node, n.op, n.macs === null ? '?' : groupedDigits(n.macs), groupedDigits(n.params)]);
    sections.push('compute\n' + alignColumns([['  node', 'op', 'MACs', 'params'], ...rows], [false, false, true, true]));
  }
  return sections.join('\n\n') + '\n';
}

function describeValue(v: ValueSummary): string {
  const dims = v.shape ? `[${v.shape.map((d) => d ?? '?').join(', ')}]` : '[?]';
  return `${v.name}  ${v.elemType} ${dims}`;
}
