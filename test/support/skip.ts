import { describe, inject, it, TestRunner, type TestFunction } from 'vitest';
import { missingMessage, ORACLES, type Oracle, type OracleStatus } from './oracles.js';

/**
 * How a test declares the oracles it needs. A test whose oracle is missing is skipped (never failed) with one
 * message naming what to install, and marked in its metadata so the run's summary (reporter.ts) can count it:
 * `skipped:<oracle>` on skipped tests, `unchecked:<oracle>` on tests that ran without an optional extra check.
 * One key per oracle, so nested declarations add up.
 */
declare module 'vitest' {
  interface TaskMeta {
    [key: `skipped:${string}`]: true;
    [key: `unchecked:${string}`]: true;
  }
}

let status: OracleStatus | undefined;

function oracleStatus(): OracleStatus {
  status ??= inject('oracles');
  if (!status) throw new Error('oracle status not provided: run the tests through vitest.config.ts (globalSetup test/support/globalSetup.ts)');
  return status;
}

/** Whether every one of these oracles is present. */
export function has(...oracles: Oracle[]): boolean {
  return missing(oracles).length === 0;
}

function missing(oracles: readonly Oracle[]): Oracle[] {
  const s = oracleStatus();
  return oracles.filter((o) => {
    if (!(o in ORACLES)) throw new Error(`unknown oracle '${o}'`);
    return !s[o];
  });
}

const marks = (kind: 'skipped' | 'unchecked', oracles: readonly Oracle[]) =>
  Object.fromEntries(oracles.map((o) => [`${kind}:${o}`, true] as const));

/**
 * A describe block whose tests all need these oracles: when one is missing, the block is skipped without running
 * its hooks. Its body still runs to collect the tests, so it must not touch the oracle outside hooks and tests.
 */
export function describeWith(oracles: Oracle[], name: string, body: () => void): void {
  const lacking = missing(oracles);
  if (lacking.length) describe(`${name} [${missingMessage(lacking)}]`, { skip: true, meta: marks('skipped', lacking) }, body);
  else describe(name, body);
}

/** A test that needs these oracles: skipped with the message when one is missing. */
export function itWith(oracles: Oracle[], name: string, fn: TestFunction, timeout?: number): void {
  const lacking = missing(oracles);
  if (lacking.length) it(name, { meta: marks('skipped', lacking) }, (ctx) => ctx.skip(missingMessage(lacking)));
  else it(name, fn, timeout);
}

/** Inside a running test: skips the rest of it, with the message, when one of these oracles is missing. */
export function needs(...oracles: Oracle[]): void {
  const lacking = missing(oracles);
  if (!lacking.length) return;
  const test = currentTest('needs');
  Object.assign(test.meta, marks('skipped', lacking));
  test.context.skip(missingMessage(lacking));
}

/**
 * An extra check inside a test whose main assertions need no oracle: runs `check` when the oracles are present;
 * otherwise the test goes on without it and the run's summary counts it as unchecked.
 */
export function alsoWith<T>(oracles: Oracle[], check: () => T): T | undefined {
  const lacking = missing(oracles);
  if (!lacking.length) return check();
  Object.assign(currentTest('alsoWith').meta, marks('unchecked', lacking));
  return undefined;
}

function currentTest(caller: string) {
  const test = TestRunner.getCurrentTest();
  if (!test) throw new Error(`${caller}() must be called inside a test (use describeWith / itWith outside one)`);
  return test;
}
