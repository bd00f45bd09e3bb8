/**
 * `onnx-cprune report` and `prune --html` as users run them (the built CLI): the page is written atomically, from the
 * same saved report as --report; bad input — a file that is not a report, a page path that cannot be written — is
 * one line and exit 2, checked before any work, with nothing left behind.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSavedReport, parseSavedReport, REPORT_SCHEMA_VERSION, type SavedReport } from '../../src/report/index.js';
import { FASHION_MNIST, fixturePath, itWith, runCli, tempDir } from '../support/index.js';

const dir = tempDir('report-cli');
let json: string;
let report: SavedReport;

beforeAll(() => {
  json = join(dir, 'run.json');
  const r = runCli([fixturePath('cnn_small'), '-o', join(dir, 'run.onnx'), '--scope', 'all', '--report', json, '--html', join(dir, 'run.html'), '-q']);
  expect(r.code, r.stderr).toBe(0);
  report = JSON.parse(readFileSync(json, 'utf8')) as SavedReport;
});

/** Expects exit 2 with exactly one line on stderr matching `message`. */
function expectRefused(args: string[], message: RegExp): void {
  const r = runCli(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

/** The page's data, as the page's script reads it. */
function pageDataOf(html: string): { groups: { id: number; status?: string }[] } {
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(readFileSync(html, 'utf8'));
  return JSON.parse(m![1]!) as { groups: { id: number; status?: string }[] };
}

describe('onnx-cprune report', () => {
  it('renders the page prune --html wrote, byte for byte, from the saved JSON', () => {
    const page = join(dir, 'again.html');
    const r = runCli(['report', json, '-o', page]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(page, 'utf8')).toBe(readFileSync(join(dir, 'run.html'), 'utf8'));
  });

  it('the page is self-contained: no URL to load, a policy that forbids requests, the data of every group', () => {
    const html = readFileSync(join(dir, 'run.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    const data = pageDataOf(join(dir, 'run.html'));
    expect(data.groups.map((g) => g.id)).toEqual(report.groups.map((g) => g.id));
    for (const [i, g] of report.groups.entries()) {
      if (g.declined) continue;
      const status = data.groups[i]!.status!;
      expect(g.kept.every((u) => status[u] === '1') && g.removed.every((u) => status[u] === '0')).toBe(true);
    }
  });

  it('the saved report carries its schema version and passes its own check', () => {
    expect(report.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    expect(parseSavedReport(report, 'run.json')).toBe(report);
  });

  it('refuses what is not a report with one line naming the first wrong field', () => {
    const write = (name: string, content: string): string => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const out = join(dir, 'never.html');
    const broken = (edit: (r: Record<string, unknown>) => void): string => {
      const copy = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
      edit(copy);
      return JSON.stringify(copy);
    };
    const cases: [string, string, RegExp][] = [
      // An ONNX model is not JSON.
      ['package.json', readFileSync(fixturePath('mlp')).toString('latin1'), /is not JSON \(a report written by `prune --report`\)/],
      ['list.json', '[1, 2]', /is not an onnx-cprune report: report: expected an object, got an array/],
      ['other.json', '{"name": "x"}', /is not an onnx-cprune report: report\.schemaVersion: expected 1, got nothing/],
      ['newer.json', broken((r) => (r.schemaVersion = REPORT_SCHEMA_VERSION + 1)), /was written by a newer onnx-cprune \(report schema version 2; this version reads 1\)/],
      ['kept.json', broken((r) => ((r.groups as { kept: unknown }[])[1]!.kept = ['a'])), /report\.groups\[1\]\.kept\[0\]: expected an integer, got "a"/],
      ['edges.json', broken((r) => ((r.groups as Record<string, unknown>[])[0]!.graphs = [{ degrees: [1], edges: { pairs: [0] } }])), /report\.groups\[0\]\.graphs\[0\]\.edges\.weights: expected an array, got nothing/],
      ['method.json', broken((r) => (r.method = 'magic')), /report\.method: expected one of "eigenvector", "degree", "l1", "l2", "random", .*"flap", got "magic"/],
    ];
    // In-process for each kind of mistake; through the CLI (exit 2, one line) for two of them.
    for (const [name, content, message] of cases) expect(() => loadSavedReport(write(name, content))).toThrow(message);
    expect(() => loadSavedReport(join(dir, 'missing.json'))).toThrow(/cannot read the report '.*missing\.json': ENOENT/);
    expect(() => loadSavedReport(dir)).toThrow(/is not a file/);
    expectRefused(['report', join(dir, 'package.json'), '-o', out], /^onnx-cprune: '.*package\.json' is not JSON/);
    expectRefused(['report', join(dir, 'kept.json'), '-o', out], /^onnx-cprune: '.*kept\.json' is not an onnx-cprune report: report\.groups\[1\]\.kept\[0\]/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a page path in a missing folder, or the report itself, before reading anything', () => {
    expectRefused(['report', join(dir, 'missing.json'), '-o', join(dir, 'no', 'such', 'x.html')], /^onnx-cprune: cannot write the page '.*': its folder does not exist\n$/);
    const copy = join(dir, 'copy.json');
    writeFileSync(copy, readFileSync(json));
    expectRefused(['report', copy, '-o', copy], /^onnx-cprune: the page '.*copy\.json' is the report it reads \('.*'\): refusing to overwrite it\n$/);
    expect(readFileSync(copy).equals(readFileSync(json))).toBe(true);
  });

  it('a page that cannot be written (a folder in the way) is refused before any work and leaves no temporary file', () => {
    const target = join(dir, 'occupied');
    mkdirSync(join(target, 'page.html'), { recursive: true });
    expectRefused(['report', json, '-o', join(target, 'page.html')], /^onnx-cprune: cannot write the page '.*page\.html': it is a directory\n$/);
    expect(readdirSync(target)).toEqual(['page.html']);
  });
});

describe('prune --html', () => {
  it('is checked before any work: a missing folder, or a path that is the input, output or report', () => {
    const input = fixturePath('mlp');
    const out = join(dir, 'html-never.onnx');
    const rep = join(dir, 'html-never.json');
    expectRefused([input, '-o', out, '--html', join(dir, 'no', 'x.html'), '-q'], /^onnx-cprune: cannot write the page '.*': its folder does not exist\n$/);
    const messages = [/the page '.*' is the input model/, /the page and the output model are the same file/, /the page and the report are the same file/];
    [input, out, rep].forEach((page, i) => {
      expectRefused([input, '-o', out, '--report', rep, '--html', page, '-q'], new RegExp(`^onnx-cprune: ${messages[i]!.source}.*\n$`));
    });
    expect(existsSync(out) || existsSync(rep)).toBe(false);
    expect(readFileSync(input).equals(readFileSync(fixturePath('mlp')))).toBe(true);
  });

  it('without --report the page alone is written', () => {
    const page = join(dir, 'alone.html');
    const r = runCli([fixturePath('mlp'), '-o', join(dir, 'alone.onnx'), '--html', page, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(pageDataOf(page).groups.length).toBeGreaterThan(0);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  itWith(['fashion-mnist'], 'with --finetune and --validate on labelled data, the saved report passes its check and renders', () => {
    const rep = join(dir, 'tuned.json');
    const page = join(dir, 'tuned.html');
    const r = runCli([fixturePath('cnn_small'), '-o', join(dir, 'tuned.onnx'), '--scope', 'all', '--finetune', '--validate', '--data', FASHION_MNIST,
      '--new-head', '10', '--limit', '300', '--epochs', '1', '--backend', 'wasm', '--ep', 'cpu', '--report', rep, '--html', page, '-q']);
    expect(r.code, r.stderr).toBe(0);
    const saved = parseSavedReport(JSON.parse(readFileSync(rep, 'utf8')), rep);
    expect(saved.finetune?.history).toHaveLength(1);
    expect(saved.validation?.accuracy).toBeDefined();
    const again = join(dir, 'tuned-again.html');
    expect(runCli(['report', rep, '-o', again]).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(page, 'utf8'));
  });
});
