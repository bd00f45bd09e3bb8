/**
 * Report pages opened in a real browser (Debian's Chromium through playwright-core): a ResNet-18 run (--scope all),
 * a BERT run with --validate, and a saved report with calibration, fine-tuning and accuracy figures added. Every
 * page must draw without a console error or a network request; each chart must have its marks (one bar per group, one
 * dot per unit in a drawn graph, coloured by whether the unit was kept); tables sort. Screenshots go into the
 * test's temp folder; `ONNX_CPRUNE_DOCS_SCREENSHOT=1` also refreshes the ones in docs/.
 */
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RANKED_SCORES_MAX_UNITS } from '../../src/report/html/pageData.js';
import type { SavedReport } from '../../src/report/index.js';
import { Browser, describeWith, fixturePath, Rng, runCli, tempDir, type WatchedPage } from '../support/index.js';

const KEPT = 'rgb(66, 105, 208)';
const REMOVED = 'rgb(255, 114, 92)';
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

describeWith(['chromium'], 'report pages in Chromium', () => {
  const dir = tempDir('report-browser');
  const profile = tempDir('chromium-profile');
  let browser: Browser;

  /** Prunes a fixture with --report and --html; returns the saved report and the page's path. */
  function pruneWithPage(model: string, flags: string[]): { report: SavedReport; html: string; json: string } {
    const json = join(dir, `${model}.json`);
    const html = join(dir, `${model}.html`);
    const r = runCli([fixturePath(model), '-o', join(dir, `${model}.onnx`), '--report', json, '--html', html, '-q', ...flags]);
    expect(r.code, r.stderr).toBe(0);
    return { report: JSON.parse(readFileSync(json, 'utf8')) as SavedReport, html, json };
  }

  beforeAll(async () => {
    browser = await Browser.launch(profile);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The checks every page passes: marks per group and unit, tables, no errors, no requests; then a screenshot. */
  async function checkPage(w: WatchedPage, report: SavedReport, name: string): Promise<void> {
    const { page } = w;
    const groups = report.groups;
    const scored = groups.filter((g) => g.declined === undefined);
    const declined = groups.filter((g) => g.declined !== undefined);

    // One kept bar and one removed bar per group, in model order.
    expect(await page.locator('#layer-chart g.kept rect').count()).toBe(groups.length);
    expect(await page.locator('#layer-chart g.removed rect').count()).toBe(groups.length);
    const labels = await page.locator('#layer-chart [aria-label="y-axis tick label"] text').allTextContents();
    expect(labels.map((l) => Number(/^#(\d+)/.exec(l)![1]))).toEqual(groups.map((g) => g.id));

    expect(await page.locator('table[aria-label="groups"] tbody tr').count()).toBe(groups.length);
    const declinedRows = page.locator('table[aria-label="declined groups"] tbody tr');
    expect(await declinedRows.count()).toBe(declined.length);
    for (const [i, g] of declined.entries()) expect(await declinedRows.nth(i).textContent()).toContain(g.declined);

    await page.click('#expand-all');
    await page.waitForFunction((n) => document.querySelectorAll('details.group[data-rendered]').length === n, scored.length, { timeout: 60_000 });
    for (const g of scored) {
      const details = page.locator(`#group-${g.id}`);
      const label = `group ${g.id}`;
      const cut = g.kept.length > 0 && g.removed.length > 0 ? 1 : 0;
      if (g.channels <= RANKED_SCORES_MAX_UNITS) expect(await details.locator('figure.scores g.ranked-scores circle').count(), label).toBe(g.channels);
      else expect(await details.locator('figure.scores g.score-bins rect').count(), label).toBeGreaterThan(0);
      expect(await details.locator('figure.scores g.cut line').count(), label).toBe(cut);
      const parts = g.graphs ?? [];
      expect(await details.locator('figure.graph').count(), label).toBe(parts.filter((p) => p.edges).length);
      for (const [p, part] of parts.entries()) {
        const figure = details.locator('figure.graph, figure.degrees').nth(p);
        if (!part.edges) {
          expect(await figure.locator('g.degree-bins rect').count(), label).toBeGreaterThan(0);
          continue;
        }
        const dots = figure.locator('g.units circle');
        expect(await dots.count(), label).toBe(g.channels);
        expect(await figure.locator('g.edges path').count(), label).toBe(part.edges.weights.length);
        const fills = await dots.evaluateAll((els) => els.map((el) => getComputedStyle(el).fill));
        expect(fills.filter((f) => f === REMOVED).length, label).toBe(g.removed.length);
        expect(fills.filter((f) => f === KEPT).length, label).toBe(g.kept.length);
      }
      if (g.calibration) expect(await details.locator('figure.liveness g.liveness circle').count(), label).toBe(g.channels);
    }

    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
    expect(statSync(join(dir, `${name}.png`)).size).toBeGreaterThan(10_000);
    expect(w.errors).toEqual([]);
    expect(w.requests).toEqual([]);
  }

  it('a ResNet-18 run (--scope all): every group, unit and edge drawn, offline, no errors', async () => {
    const { report, html } = pruneWithPage('resnet18', ['--scope', 'all']);
    expect(report.groups.some((g) => g.declined)).toBe(true);
    expect(report.groups.some((g) => (g.graphs?.[0]?.edges?.pairs.length ?? 0) > 0)).toBe(true);
    expect(statSync(html).size).toBeLessThan(2_000_000);
    const w = await browser.open(html);
    await checkPage(w, report, 'resnet18');

    // The summary: params and MACs before → after, as the report has them.
    const cards = await w.page.locator('#summary .figure').allTextContents();
    expect(cards.map((c) => c.split(/\d/)[0])).toEqual(['parameters', 'MACs']);

    // Clicking a bar opens that group's details.
    const target = report.groups.find((g) => !g.declined && g.id > 0)!;
    await w.page.evaluate(() => document.querySelectorAll('details.group').forEach((d) => ((d as HTMLDetailsElement).open = false)));
    await w.page.locator('#layer-chart g.kept rect').nth(report.groups.indexOf(target)).click();
    expect(await w.page.locator(`#group-${target.id}`).evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);

    // The groups table sorts by a column, and back.
    const units = async (): Promise<number[]> => (await w.page.locator('table[aria-label="groups"] tbody tr td:nth-child(4)').allTextContents()).map(Number);
    const header = w.page.locator('table[aria-label="groups"] th button', { hasText: /^units$/ });
    await header.click();
    expect(await units()).toEqual(report.groups.map((g) => g.channels).sort((a, b) => a - b));
    await header.click();
    expect(await units()).toEqual(report.groups.map((g) => g.channels).sort((a, b) => b - a));
    expect(w.errors).toEqual([]);

    await w.page.close();
  });

  it('a BERT run with --validate: the latency figure and the output comparison', async () => {
    const { report, html } = pruneWithPage('bert', ['--validate']);
    expect(report.validation).toBeDefined();
    const w = await browser.open(html);
    await checkPage(w, report, 'bert');
    const cards = await w.page.locator('#summary .figure .label').allTextContents();
    expect(cards).toEqual(['parameters', 'MACs', `latency (batch 1, ${report.validation!.ep})`]);
    expect(await w.page.locator('table[aria-label="outputs"] tbody tr').count()).toBe(report.validation!.outputs.length);
    expect(await w.page.locator('table[aria-label="latency"] tbody tr').count()).toBe(report.validation!.latency.length);
    await w.page.close();
  });

  it('`onnx-cprune report` draws calibration liveness, fine-tuning and accuracy when the report has them', async () => {
    const { json } = pruneWithPage('resnet18', ['--scope', 'conv']);
    const report = JSON.parse(readFileSync(json, 'utf8')) as SavedReport;
    for (const g of report.groups) {
      if (!g.declined) g.calibration = { activeFraction: g.kept.concat(g.removed).map((u) => ((u * 37) % 100) / 100), samples: 100 };
    }
    report.finetune = {
      history: [1, 2, 3].map((epoch) => ({ epoch, loss: 1 / epoch, accuracy: 0.5 + epoch / 10, valLoss: 1.1 / epoch, valAccuracy: 0.45 + epoch / 10, seconds: 1 })),
      bestEpoch: 3, initial: { loss: 2, accuracy: 0.3 }, trained: ['fc.weight', 'fc.bias'], mode: 'head',
      backend: { name: 'cpu', detail: 'tfjs-backend-cpu' }, samples: { train: 90, val: 10 },
    };
    // Two groups larger than the fixtures': a histogram of 300 scores with a drawn graph, and 2100 units (degrees only).
    report.groups.push(syntheticGroup(report.groups.length, 300, true), syntheticGroup(report.groups.length + 1, 2100, false));
    const extended = join(dir, 'extended.json');
    writeFileSync(extended, JSON.stringify(report));
    const html = join(dir, 'extended.html');
    const r = runCli(['report', extended, '-o', html]);
    expect(r.code, r.stderr).toBe(0);
    const w = await browser.open(html);
    await checkPage(w, report, 'extended');
    expect(await w.page.locator('#summary .figure .label').allTextContents()).toEqual(['parameters', 'MACs', 'fine-tuning (validation accuracy)']);
    expect(await w.page.locator('#finetune-chart svg g[aria-label="line"] path').count()).toBe(2); // training and validation
    await w.page.close();
  });

  it('the network check itself: a page that asks for a remote file is caught', async () => {
    const html = join(dir, 'remote.html');
    writeFileSync(html, '<!doctype html><html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>');
    const w = await browser.open(html);
    expect(w.requests).toEqual(['http://127.0.0.1:9/x.png']);
    expect(w.errors.some((e) => e.includes('boom'))).toBe(true);
    await w.page.close();
  });

  /** A scored group of n units with seeded scores, the lowest 30 % removed, and a similarity graph. */
  function syntheticGroup(id: number, n: number, drawn: boolean): SavedReport['groups'][number] {
    const rng = new Rng(id);
    const scores = Array.from({ length: n }, () => rng.next());
    const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
    const removed = order.slice(0, Math.floor(0.3 * n)).sort((a, b) => a - b);
    const gone = new Set(removed);
    const pairs: number[] = [];
    const degrees = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      for (const j of [(i + 1) % n, (i + 7) % n]) {
        pairs.push(Math.min(i, j), Math.max(i, j));
        degrees[i]!++;
        degrees[j]!++;
      }
    }
    return {
      id, producers: [`/synthetic/${n}/Conv`], kind: 'conv', channels: n,
      kept: order.filter((u) => !gone.has(u)).sort((a, b) => a - b), removed, method: 'eigenvector', scores,
      iterations: 12, converged: true, components: 1, edges: pairs.length / 2, density: pairs.length / (n * (n - 1)),
      graphs: [{ degrees, ...(drawn ? { edges: { pairs, weights: pairs.filter((_, k) => k % 2 === 0).map(() => 0.5) } } : {}) }],
      layer: { params: { before: 10 * n, after: 7 * n }, macs: { before: 100 * n, after: 70 * n } },
    };
  }

  it.runIf(process.env.ONNX_CPRUNE_DOCS_SCREENSHOT)('refreshes the README\'s pictures in docs/', async () => {
    // Relative paths, as a user would type them, so the page shows no temp folder.
    copyFileSync(fixturePath('resnet18'), join(dir, 'resnet18.onnx'));
    const r = runCli(['resnet18.onnx', '-o', 'resnet18.pruned.onnx', '--scope', 'all', '--report', 'docs.json', '--html', 'docs.html', '-q'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'docs.json'), 'utf8')) as SavedReport;
    const w = await browser.open(join(dir, 'docs.html'));
    const { page } = w;
    await page.setViewportSize({ width: 1200, height: 900 });
    const bottom = await page.locator('#layers').evaluate((el) => el.getBoundingClientRect().bottom + window.scrollY);
    await page.screenshot({ path: join(DOCS, 'report-resnet18.png'), clip: { x: 0, y: 0, width: 1200, height: Math.ceil(bottom) + 16 } });
    // The group with the most edges at τ shows the most of its graph.
    const group = report.groups.filter((g) => !g.declined).reduce((a, b) => ((b.edges ?? 0) > (a.edges ?? 0) ? b : a));
    await page.locator(`#group-${group.id} summary`).click();
    await page.waitForSelector(`#group-${group.id}[data-rendered]`);
    await page.locator(`#group-${group.id}`).screenshot({ path: join(DOCS, 'report-resnet18-group.png') });
    expect(w.errors).toEqual([]);
    await page.close();
  });
});
