import { RANKED_SCORES_MAX_UNITS, type PageData, type PageGroup } from '../pageData.js';
import { degreeChart, finetuneChart, layerChart, livenessChart, scoreChart, unitsOf } from './charts.js';
import { formatCount, formatFigure, formatNumber, formatPercent, h } from './dom.js';
import { graphChart } from './graph.js';
import { sortableTable, type Column } from './table.js';

function page(d: PageData): Node[] {
  const scored = d.groups.filter((g) => g.declined === undefined);
  const declined = d.groups.filter((g) => g.declined !== undefined);
  return [
    h('header', {}, h('h1', {}, 'Pruning report'), h('p', { class: 'title' }, d.title), h('p', { class: 'paths' }, d.input, ' → ', d.output)),
    ...(d.notices.length ? [h('ul', { class: 'notices' }, ...d.notices.map((n) => h('li', {}, n)))] : []),
    section('summary', 'Summary', h('div', { class: 'figures' }, ...d.figures.map(figureCard)), optionsList(d)),
    section('layers', 'Units kept and removed, per group in model order',
      h('p', { class: 'hint' }, `${scored.length} groups scored, ${declined.length} left alone. Click a bar for the group's details.`),
      layerChartBox(d.groups)),
    section('groups', 'Groups', groupTable(d.groups)),
    detailsSection(scored, d),
    ...(declined.length ? [section('declined', 'Declined groups', declinedTable(declined))] : []),
    ...(d.validation ? [validationSection(d.validation)] : []),
    ...(d.finetune ? [section('finetune', `Fine-tuning (${d.finetune.mode})`, chartBox('finetune-chart', finetuneChart(d.finetune, 640)))] : []),
    h('footer', {}, 'Written by onnx-cprune. Charts drawn with Observable Plot and d3; their licences are reproduced at the top of this page\'s script.'),
  ];
}

function section(id: string, title: string, ...children: Node[]): HTMLElement {
  return h('section', { id }, h('h2', {}, title), ...children);
}

function chartBox(id: string, chart: Element): HTMLElement {
  return h('div', { class: 'chart', id }, chart);
}

function layerChartBox(groups: readonly PageGroup[]): HTMLElement {
  const box = chartBox('layer-chart', layerChart(groups, 980));
  box.addEventListener('click', (e) => {
    // Plot binds each bar to its row's index in the data it was given (the groups, in order).
    const row = (e.target as { __data__?: unknown }).__data__;
    if (e.target instanceof SVGRectElement && typeof row === 'number') openGroup(groups[row]!.id);
  });
  return box;
}

function detailsSection(scored: readonly PageGroup[], d: PageData): HTMLElement {
  const expand = h('button', { type: 'button', id: 'expand-all' }, 'Expand all');
  const s = section('details', 'Group details',
    h('p', { class: 'hint' }, `Score distribution and cut; the similarity graph at τ = ${d.threshold} (for groups too large to draw: the degree distribution).`),
    expand, ...scored.map((g) => groupDetails(g, d)));
  expand.addEventListener('click', () => s.querySelectorAll('details').forEach((el) => (el.open = true)));
  return s;
}

function figureCard(f: PageData['figures'][number]): HTMLElement {
  const change = f.before !== 0 ? f.after / f.before - 1 : 0;
  const better = f.lowerIsBetter ? change < 0 : change > 0;
  const delta = f.format === 'percent' ? `${change >= 0 ? '+' : ''}${((f.after - f.before) * 100).toFixed(1)} points` : `${change >= 0 ? '+' : ''}${formatPercent(change)}`;
  return h('div', { class: 'figure' },
    h('div', { class: 'label' }, f.label),
    h('div', { class: 'values' }, formatFigure(f.before, f.format), ' → ', h('strong', {}, formatFigure(f.after, f.format))),
    h('div', { class: `delta ${change === 0 ? '' : better ? 'good' : 'bad'}` }, delta));
}

function optionsList(d: PageData): HTMLElement {
  return h('dl', { class: 'options' }, ...d.options.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function openGroup(id: number): void {
  const el = document.getElementById(`group-${id}`);
  if (el instanceof HTMLDetailsElement) {
    el.open = true;
    el.scrollIntoView({ block: 'start' });
  } else document.getElementById(`declined-${id}`)?.scrollIntoView({ block: 'center' });
}

const pct = (g: PageGroup): number => (g.units ? (g.units - g.kept) / g.units : 0);
const change = (pair?: [number, number]): string => (pair ? `${formatCount(pair[0])} → ${formatCount(pair[1])}` : '');

function groupTable(groups: readonly PageGroup[]): HTMLElement {
  const link = (g: PageGroup): Node => {
    const a = h('a', { href: `#${g.declined === undefined ? 'group' : 'declined'}-${g.id}` }, `#${g.id}`);
    a.addEventListener('click', (e) => (e.preventDefault(), openGroup(g.id)));
    return a;
  };
  const columns: Column<PageGroup>[] = [
    { label: 'group', value: (g) => g.id, cell: link, numeric: true },
    { label: 'producers', value: (g) => g.label, title: 'the layers whose output channels the group holds' },
    { label: 'kind', value: (g) => g.kind },
    { label: 'units', value: (g) => g.units, numeric: true },
    { label: 'kept', value: (g) => g.kept, numeric: true },
    { label: 'removed', value: pct, cell: (g) => formatPercent(pct(g)), numeric: true },
    { label: 'params', value: (g) => g.layer?.params[0], cell: (g) => change(g.layer?.params), numeric: true },
    { label: 'MACs', value: (g) => g.layer?.macs[0], cell: (g) => change(g.layer?.macs), numeric: true },
    { label: 'method', value: (g) => g.method ?? (g.declined !== undefined ? 'declined' : '') },
    { label: 'iterations', value: (g) => g.iterations, numeric: true },
    { label: 'converged', value: (g) => (g.converged === undefined ? undefined : g.converged ? 'yes' : 'no') },
    { label: 'components', value: (g) => g.components, numeric: true },
    { label: 'edges', value: (g) => g.edges, numeric: true },
    { label: 'density', value: (g) => g.density, cell: (g) => formatNumber(g.density), numeric: true },
    { label: 'note', value: (g) => g.note ?? g.declined, cell: (g) => shortNote(g.note ?? g.declined ?? '') },
  ];
  return h('div', { class: 'table-wrap' }, sortableTable(groups, columns, { label: 'groups', rowAttrs: (g) => (g.declined !== undefined ? { class: 'declined' } : {}) }));
}

/** The first words of a note, all of it on hover (the group's details show it whole). */
function shortNote(note: string): HTMLElement {
  const short = note.length > 48 ? `${note.slice(0, 47)}…` : note;
  return h('span', { class: 'note', title: note === short ? undefined : note }, short);
}

function declinedTable(groups: readonly PageGroup[]): HTMLElement {
  const columns: Column<PageGroup>[] = [
    { label: 'group', value: (g) => g.id, numeric: true },
    { label: 'producers', value: (g) => g.producers.join(', ') },
    { label: 'kind', value: (g) => g.kind },
    { label: 'units', value: (g) => g.units, numeric: true },
    { label: 'reason', value: (g) => g.declined },
  ];
  return h('div', { class: 'table-wrap' }, sortableTable(groups, columns, { label: 'declined groups', rowAttrs: (g) => ({ id: `declined-${g.id}` }) }));
}

/** One scored group; its charts are drawn when it is first opened, the similarity graphs last (layouts take a moment). */
function groupDetails(g: PageGroup, d: PageData): HTMLDetailsElement {
  const facts = [
    `${g.kind}`, `${g.kept}/${g.units} kept`, g.method,
    g.iterations !== undefined ? `${g.iterations} iterations` : undefined,
    g.converged === false ? 'not converged' : g.converged ? 'converged' : undefined,
    g.components !== undefined ? `${g.components} components` : undefined,
    g.edges !== undefined ? `${formatCount(g.edges)} edges at τ` : undefined,
  ].filter((x): x is string => !!x);
  const body = h('div', { class: 'group-body' });
  const details = h('details', { class: 'group', id: `group-${g.id}`, 'data-units': g.units },
    h('summary', {}, h('span', { class: 'gid' }, `#${g.id}`), ' ', g.label, ' ', h('span', { class: 'facts' }, facts.join(' · '))),
    body);
  let started = false;
  details.addEventListener('toggle', () => {
    if (!details.open || started) return;
    started = true;
    const { nodes, later } = groupBody(g, d);
    body.append(...nodes);
    whenIdle(later, () => (details.dataset.rendered = ''));
  });
  return details;
}

/** Runs the tasks one per browser task, so the page stays responsive while several groups draw their graphs. */
function whenIdle(tasks: (() => void)[], done: () => void): void {
  const next = (): void => {
    const task = tasks.shift();
    if (!task) return done();
    task();
    setTimeout(next, 0);
  };
  setTimeout(next, 0);
}

function groupBody(g: PageGroup, d: PageData): { nodes: Node[]; later: (() => void)[] } {
  const units = unitsOf(g);
  const nodes: Node[] = [];
  const later: (() => void)[] = [];
  if (g.note) nodes.push(h('p', { class: 'note' }, g.note));
  nodes.push(h('p', { class: 'producers' }, 'producers: ', g.producers.join(', ')));
  const charts = h('div', { class: 'charts' });
  if (g.scores) {
    const removedEnd = d.keep === 'central' ? 'lowest' : 'highest';
    const what = units.length <= RANKED_SCORES_MAX_UNITS ? 'every unit\'s score, ranked' : 'score distribution';
    charts.append(figure(`${what}: the ${removedEnd} scores are removed`, scoreChart(g, units, d.keep, 440), 'scores'));
  }
  for (const graph of g.graphs ?? []) {
    const perPart = units.map((u) => ({ ...u, degree: graph.degrees[u.unit]! }));
    const of = graph.producer ? ` of ${graph.producer}` : '';
    if (graph.edges) {
      const shown = graph.edges.weights.length;
      const caption = `similarity graph${of} at τ = ${d.threshold}: ${formatCount(graph.total)} edges${shown < graph.total ? `, the strongest ${formatCount(shown)} drawn` : ''}; dot size: ${g.method ?? ''} score`;
      const placeholder = h('div', { class: 'pending' }, `laying out ${g.units} units…`);
      const fig = figure(caption, placeholder, 'graph');
      charts.append(fig);
      later.push(() => placeholder.replaceWith(graphChart(graph, perPart, 440)));
    } else {
      charts.append(figure(`degree distribution${of} at τ = ${d.threshold} (${g.units} units: too many to draw)`, degreeChart(perPart, d.threshold, 440), 'degrees'));
    }
  }
  if (g.activeFraction) charts.append(figure('liveness on the calibration data', livenessChart(units, 440), 'liveness'));
  nodes.push(charts);
  return { nodes, later };
}

function figure(caption: string, chart: Element, kind: string): HTMLElement {
  return h('figure', { class: `chart ${kind}` }, chart, h('figcaption', {}, caption));
}

function validationSection(v: NonNullable<PageData['validation']>): HTMLElement {
  type Output = (typeof v.outputs)[number];
  type Latency = (typeof v.latency)[number];
  const outputs: Column<Output>[] = [
    { label: 'output', value: (o) => o.name },
    { label: 'shapes match', value: (o) => (o.shapesMatch ? 'yes' : 'no') },
    { label: 'max |Δ|', value: (o) => o.maxAbs ?? undefined, cell: (o) => formatNumber(o.maxAbs), numeric: true },
    { label: 'mean |Δ|', value: (o) => o.meanAbs ?? undefined, cell: (o) => formatNumber(o.meanAbs), numeric: true },
    { label: 'max rel.', value: (o) => o.maxRel ?? undefined, cell: (o) => formatNumber(o.maxRel), numeric: true },
    { label: 'mean rel.', value: (o) => o.meanRel ?? undefined, cell: (o) => formatNumber(o.meanRel), numeric: true },
    { label: 'top-1 agreement', value: (o) => o.top1Agreement, cell: (o) => (o.top1Agreement === undefined ? '' : formatPercent(o.top1Agreement)), numeric: true },
  ];
  const latency: Column<Latency>[] = [
    { label: 'batch', value: (p) => p.batch, numeric: true },
    { label: 'original (ms)', value: (p) => p.originalMs, cell: (p) => formatNumber(p.originalMs), numeric: true },
    { label: 'pruned (ms)', value: (p) => p.prunedMs, cell: (p) => formatNumber(p.prunedMs), numeric: true },
    { label: 'pruned / original', value: (p) => p.ratio, cell: (p) => formatNumber(p.ratio), numeric: true },
  ];
  return section('validation', `Validation on onnxruntime (${v.ep})`,
    h('p', { class: 'hint' }, v.data),
    h('div', { class: 'table-wrap' }, sortableTable(v.outputs, outputs, { label: 'outputs' })),
    h('div', { class: 'table-wrap' }, sortableTable(v.latency, latency, { label: 'latency' })));
}

/** The report page: everything is built from the JSON the page carries, with no request to anywhere. */
const data = JSON.parse(document.getElementById('report-data')!.textContent!) as PageData;
document.getElementById('app')!.replaceChildren(...page(data));
