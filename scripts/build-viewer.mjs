// Bundles the report page's script and style (src/report/html/viewer/) into dist/viewer/, which every report page
// inlines. Run by `npm run build`. The licences of the bundled npm packages go at the top of the script.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const viewer = join(root, 'src/report/html/viewer');
const outdir = join(root, 'dist/viewer');

const common = { bundle: true, minify: true, target: ['chrome100', 'firefox100', 'safari15'], logLevel: 'warning', legalComments: 'none' };
const script = await build({ ...common, entryPoints: [join(viewer, 'main.ts')], outfile: join(outdir, 'viewer.js'), format: 'iife', metafile: true, write: false });
const style = await build({ ...common, entryPoints: [join(viewer, 'style.css')], outfile: join(outdir, 'viewer.css'), write: false });

/** The package folders (node_modules/<name>) the bundle took code from, with their licence texts. */
function licences(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m && !packages.has(m[1])) packages.set(m[1], join(root, m[1]));
  }
  const texts = new Map();
  for (const dir of packages.values()) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
    if (!file) throw new Error(`${relative(root, dir)} has no licence file to reproduce`);
    const text = readFileSync(join(dir, file), 'utf8').trim();
    texts.set(text, [...(texts.get(text) ?? []), `${pkg.name}@${pkg.version}`]);
  }
  return [...texts].map(([text, names]) => `${names.join(', ')}:\n\n${text}`).join('\n\n----\n\n');
}

const js = script.outputFiles[0].text;
// The script is inlined in a <script> element, which ends at the first "</script" whatever the JavaScript says.
if (/<\/script/i.test(js)) throw new Error('the bundled viewer contains "</script": it cannot be inlined');
const banner = `/*! onnx-cprune report viewer. Bundled third-party code and its licences:\n\n${licences(script.metafile).replaceAll('*/', '* /')}\n*/\n`;

const { mkdirSync, writeFileSync } = await import('node:fs');
mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, 'viewer.js'), banner + js);
writeFileSync(join(outdir, 'viewer.css'), style.outputFiles[0].text);
if (!existsSync(join(outdir, 'viewer.js'))) throw new Error('viewer.js was not written');
