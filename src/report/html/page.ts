import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SavedReport } from '../schema.js';
import { pageData } from './viewModel.js';

/**
 * One self-contained HTML page for a saved report: the page's script (d3 and Observable Plot included), its style
 * and the data are inlined, and a Content-Security-Policy forbids every request, so it reads the same offline, as a
 * mail attachment or from a pull request.
 */
export function renderReportPage(report: SavedReport): string {
  const { script, style } = viewerAssets();
  const data = pageData(report);
  // JSON is JavaScript-safe except for "</script" (and U+2028/9 in old parsers): escape every '<' and those two.
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>onnx-cprune report: ${escapeHtml(data.title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    `<main id="app"><noscript>This report draws its tables and charts with JavaScript; the data is in the page's report-data element.</noscript></main>`,
    `<script type="application/json" id="report-data">${json}</script>`,
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

let assets: { script: string; style: string } | undefined;

/** The bundled viewer, built into dist/viewer/ by `npm run build` (scripts/build-viewer.mjs). */
function viewerAssets(): { script: string; style: string } {
  if (assets) return assets;
  const dir = join(packageRoot(), 'dist', 'viewer');
  try {
    assets = { script: readFileSync(join(dir, 'viewer.js'), 'utf8'), style: readFileSync(join(dir, 'viewer.css'), 'utf8') };
  } catch {
    throw new Error(`the report viewer is not built (${dir} is missing): run \`npm run build\``);
  }
  return assets;
}

/** This package's folder: the nearest folder above this file (src/report/html or dist/src/report/html) with our package.json. */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'onnx-cprune') return dir;
    } catch { /* no package.json here: keep walking */ }
    if (dirname(dir) === dir) throw new Error('cannot find the onnx-cprune package folder above the report renderer');
  }
}
