import type { ValidationReport } from './validate.js';

/** The validation report as a few aligned lines for a terminal. */
export function formatValidationReport(r: ValidationReport): string {
  const lines: string[] = [];
  lines.push(`validated ${r.pruned} against ${r.original} on ${r.ep.toUpperCase()}`);
  lines.push(`  inputs     ${r.inputs.map((i) => `${i.name} ${i.type}[${i.dims.join(', ')}]`).join(', ')}`);
  lines.push(`  data       ${r.data.samples} samples of [${r.data.sampleShape.join(', ')}] from ${r.data.source}${r.data.labelled ? ', labelled' : ''}`);
  if (r.stats) {
    lines.push(`  params     ${count(r.stats.original.params)} -> ${count(r.stats.pruned.params)} (${ratio(r.stats.paramsRatio)})`);
    lines.push(`  MACs       ${count(r.stats.original.macs)} -> ${count(r.stats.pruned.macs)} (${ratio(r.stats.macsRatio)})`);
  }
  for (const o of r.outputs) {
    const shapes = o.shapesMatch ? `[${o.originalShape.join(', ')}] in both` : `[${o.originalShape.join(', ')}] vs [${o.prunedShape.join(', ')}]: SHAPES DIFFER`;
    lines.push(`  output     ${o.name} ${shapes}`);
    if (o.shapesMatch) {
      lines.push(`             |diff| max ${num(o.maxAbs)} mean ${num(o.meanAbs)}; relative max ${num(o.maxRel)} mean ${num(o.meanRel)}`);
      if (o.top1Agreement !== undefined) lines.push(`             top-1 agreement ${pct(o.top1Agreement)}`);
    }
  }
  if (r.accuracy) lines.push(`  accuracy   ${pct(r.accuracy.original)} -> ${pct(r.accuracy.pruned)} on ${r.accuracy.samples} samples (output ${r.accuracy.output})`);
  for (const l of r.latency) {
    lines.push(`  batch ${String(l.batch).padEnd(4)} ${ms(l.original.medianMs)} -> ${ms(l.pruned.medianMs)} median (${ratio(l.ratio)}); ${rate(l.original.throughput)} -> ${rate(l.pruned.throughput)} samples/s`);
  }
  for (const n of r.notes) lines.push(`  note       ${n}`);
  return lines.join('\n');
}

function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function ratio(x: number): string {
  return `${x.toFixed(3)}x`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function num(x: number | null): string {
  return x === null ? 'n/a' : x.toPrecision(3);
}

function ms(x: number): string {
  return `${x.toFixed(x < 10 ? 3 : 1)} ms`;
}

function rate(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
