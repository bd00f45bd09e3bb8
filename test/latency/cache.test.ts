/** The latency lookup table on disk: where it lives per OS, what identifies it, atomic rewrite. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCacheDir, readTable, tablePath, writeTable, type LatencyTableFile, type TableIdentity } from '../../src/runtime/latencyCache.js';
import { tempDir } from '../support/index.js';

const dir = tempDir('latency-cache');

const id: TableIdentity = { model: 'ab'.repeat(32), ep: 'cpu', batch: 1, threads: 1, clock: 'cpu', onnxruntime: '1.29.0', cpu: 'Test CPU' };
const table: LatencyTableFile = { version: 1, ...id, modelMs: 12.5, groups: { 'conv1/64': { units: 64, points: [{ units: 48, saving: 0.05 }, { units: 32, saving: 0.1 }] } } };

describe('defaultCacheDir', () => {
  it('follows each OS\'s cache folder, and $ONNX_CPRUNE_CACHE first', () => {
    expect(defaultCacheDir({}, 'linux', '/home/u')).toBe('/home/u/.cache/onnx-cprune');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/onnx-cprune');
    expect(defaultCacheDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Caches/onnx-cprune');
    expect(defaultCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toContain(join('onnx-cprune', 'cache'));
    expect(defaultCacheDir({ ONNX_CPRUNE_CACHE: '/tmp/tables', XDG_CACHE_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/tmp/tables');
  });
});

describe('readTable / writeTable', () => {
  it('round-trips, creating the folder, with no temporary file left', () => {
    const folder = join(dir, 'a', 'b');
    const path = tablePath(folder, id);
    expect(path).toMatch(/latency-abababababababab-cpu-b1-t1\.json$/);
    writeTable(path, table);
    expect(readTable(path, id)).toEqual(table);
    expect(readdirSync(folder)).toEqual([path.split('/').pop()]);
  });

  it('does not trust a table made for another model, provider, batch, threads, clock, onnxruntime or CPU', () => {
    const path = tablePath(dir, id);
    writeTable(path, table);
    for (const change of [{ model: 'cd'.repeat(32) }, { ep: 'cuda' }, { batch: 8 }, { threads: 0 }, { clock: 'wall' as const }, { onnxruntime: '1.30.0' }, { cpu: 'Other CPU' }]) {
      expect(readTable(path, { ...id, ...change })).toBeUndefined();
    }
  });

  it('treats a missing or corrupt file as no table', () => {
    expect(readTable(join(dir, 'none.json'), id)).toBeUndefined();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version": 1, "model"');
    expect(readTable(bad, id)).toBeUndefined();
    expect(existsSync(bad)).toBe(true);
  });
});
