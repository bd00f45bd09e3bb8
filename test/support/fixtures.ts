import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModel } from '../../src/ir/load.js';
import { PADDLEOCR_DIR } from './oracles.js';
import { feedsFor, type Feeds } from './ort.js';

/** The committed fixtures (fixtures/models, made by fixtures/make_fixtures.py) and the optional PaddleOCR models. */

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const FIXTURE_DIR = join(FIXTURES, 'models');
/** Where fixtures/fetch_paddleocr.sh puts the three PaddleOCR models (the `paddleocr` oracle). */
export const PADDLEOCR_MODELS = join(PADDLEOCR_DIR, 'assets');

export interface ManifestEntry {
  file: string;
  params: number;
  nodes: number;
  opCounts: Record<string, number>;
  inputs: { name: string; shape: (number | string)[]; dtype: string }[];
}

/** fixtures/models/manifest.json's models: name → entry (`file` relative to fixtures/). */
export const MANIFEST: Record<string, ManifestEntry> =
  (JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8')) as { models: Record<string, ManifestEntry> }).models;

export function fixturePath(name: string): string {
  const entry = MANIFEST[name];
  if (!entry) throw new Error(`no fixture '${name}' in fixtures/models/manifest.json`);
  return join(FIXTURES, entry.file);
}

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** Seeded inputs for a fixture (seed 5; the dynamic-batch fixture runs with batch 2). */
export function fixtureFeeds(name: string, bytes = fixtureBytes(name)): Feeds {
  return feedsFor(decodeModel(bytes), { seed: 5, dims: name.includes('dynbatch') ? { input: [2, 3, 32, 32] } : {} });
}

/** Paths of every model in fixtures/models. */
export function fixtureModels(): string[] {
  return onnxFilesIn(FIXTURE_DIR);
}

/** Paths of the PaddleOCR models; none until fixtures/fetch_paddleocr.sh has run. */
export function paddleModels(): string[] {
  return existsSync(join(PADDLEOCR_DIR, '.complete')) ? onnxFilesIn(PADDLEOCR_MODELS) : [];
}

function onnxFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(dir, f));
}
