/**
 * Bad arguments to `onnx-cprune prune`: exit 2, exactly one line on stderr naming the problem, no output file (and no
 * report), the input untouched. Needs the built CLI (`npm run build`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, runCli, tempDir } from '../support/index.js';

const dir = tempDir('prune-errors');

/** A config file the cases name now and find written when they run. */
const configs = new Map<string, string>();
const config = (name: string, text: string): string => {
  configs.set(name, text);
  return join(dir, name);
};
beforeAll(() => {
  for (const [name, text] of configs) writeFileSync(join(dir, name), text);
});

const CASES: [string, string[], RegExp][] = [
  ['--method foo', ['--method', 'foo'], /--method.*'foo' is invalid.*eigenvector, degree, l1, l2, random/],
  ['--threshold 2', ['--threshold', '2'], /--threshold must be a number in \[-1, 1\], got '2'/],
  ['--ratio 1', ['--ratio', '1'], /--ratio must be a number in \[0, 0\.99\], got '1'/],
  ['--ratio -0.1', ['--ratio', '-0.1'], /--ratio must be a number/],
  ['--scope bogus', ['--scope', 'bogus'], /--scope.*'bogus' is invalid/],
  ['--round-to 0', ['--round-to', '0'], /--round-to must be 'auto' or an integer in \[1, \d+\], got '0'/],
  ['--round-to fast', ['--round-to', 'fast'], /--round-to must be 'auto' or an integer in \[1, \d+\], got 'fast'/],
  ['--target-latency 0', ['--target-latency', '0'], /--target-latency must be a number in \[0\.01, 1\]/],
  ['--target-latency 1.5', ['--target-latency', '1.5'], /--target-latency must be a number in \[0\.01, 1\]/],
  ['--target-latency with --target-macs', ['--target-latency', '0.5', '--target-macs', '0.5'], /one target: --target-latency cannot be combined/],
  ['--target-latency with --global', ['--target-latency', '0.5', '--global'], /--target-latency chooses every group's width itself/],
  ['--threads 0', ['--threads', '0'], /--threads must be an integer in \[1, /],
  ['--layer-ratios (missing file)', ['--layer-ratios', join(dir, 'nope.json')], /the --layer-ratios file .* does not exist/],
  ['--layer-ratios (bad JSON)', ['--layer-ratios', config('bad.json', '{"/1/Gemm": 0.5,')], /bad\.json is not valid JSON/],
  ['--layer-ratios (ratio 1.5)', ['--layer-ratios', config('big.json', '{"*": 1.5}')], /ratio for '\*' must be a number in \[0, 1\), got 1\.5/],
  ['--layer-ratios (default 1)', ['--layer-ratios', config('default.json', '{"default": 1, "layers": {}}')], /ratio for default must be a number in \[0, 1\)/],
  ['--layer-ratios (an array)', ['--layer-ratios', config('array.json', '[0.5]')], /expected a JSON object of pattern → ratio/],
  ['--layer-ratios (invalid regex)', ['--layer-ratios', config('regex.json', '{"/a(/": 0.5}')], /invalid layer pattern \/a\(\//],
  ['--target-macs with --target-params', ['--target-macs', '0.5', '--target-params', '0.5'], /either --target-macs or --target-params, not both/],
  ['--target-macs 0', ['--target-macs', '0'], /--target-macs must be a number in \[0\.01, 1\]/],
  ['--finetune without --data', ['--finetune'], /--finetune needs --data/],
  ['--layers with an invalid regex', ['--layers', '/a(/'], /invalid layer pattern \/a\(\/: Invalid regular expression/],
  ['--exclude with an invalid regex', ['--exclude', '/[/'], /invalid layer pattern \/\[\//],
  // The pattern is wrong whether or not a group reaches it: --scope conv leaves mlp nothing to match it against.
  ['--layers with an invalid regex, nothing in scope', ['--layers', '/a(/', '--scope', 'conv'], /invalid layer pattern \/a\(\//],
  ['--exclude with an invalid regex, nothing selected', ['--layers', 'nothing*', '--exclude', '/a(/'], /invalid layer pattern \/a\(\//],
  ['--global with --layer-ratios', ['--global', '--layer-ratios', config('ok.json', '{"*": 0.5}')], /--global .* cannot be combined with --layer-ratios/],
];

describe('bad arguments exit 2 with one line and write nothing', () => {
  it.each(CASES)('%s', (_, flags, message) => {
    const out = join(dir, 'out.onnx');
    const report = join(dir, 'out.json');
    const r = runCli([fixturePath('mlp'), '-o', out, '--report', report, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(report)).toBe(false);
  });

  it('-o equal to the input (also spelled another way) is refused and the input is untouched', () => {
    const input = fixturePath('mlp');
    const before = readFileSync(input);
    for (const o of [input, join(input, '..', '..', 'models', 'mlp.onnx')]) {
      const r = runCli([input, '-o', o, '-q']);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/refusing to overwrite the input/);
    }
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  it('--report naming the input or the output model is refused before anything is written', () => {
    const input = join(dir, 'input.onnx');
    writeFileSync(input, readFileSync(fixturePath('mlp')));
    const out = join(dir, 'pruned.onnx');
    for (const report of [input, out]) {
      const r = runCli([input, '-o', out, '--report', report, '-q']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^onnx-cprune: (the report .* is the input model .*refusing to overwrite it|the report and the output model are the same file .*)\n$/);
      expect(existsSync(out)).toBe(false);
    }
    expect(readFileSync(input).equals(readFileSync(fixturePath('mlp')))).toBe(true);
  });

  it('--report in a folder that does not exist is refused before the model is written', () => {
    const out = join(dir, 'never.onnx');
    const r = runCli([fixturePath('mlp'), '-o', out, '--report', join(dir, 'no', 'such', 'r.json'), '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^onnx-cprune: cannot write the report .*: its folder does not exist\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('a missing input model exits 2', () => {
    const r = runCli([join(dir, 'missing.onnx'), '-o', join(dir, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
