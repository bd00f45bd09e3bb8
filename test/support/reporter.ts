import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { missingMessage, ORACLE_NAMES, ORACLES, type Oracle } from './oracles.js';

/**
 * Prints, after vitest's own summary, which oracles this machine lacks and how many tests each one made skip (or
 * run without an extra check), with the command that installs it. Silent when every oracle is present.
 */
export default class OracleSummaryReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const vitest = this.vitest!;
    const status = vitest.getRootProject().getProvidedContext().oracles;
    if (!status) return;
    const lacking = ORACLE_NAMES.filter((o) => !status[o]);
    if (!lacking.length) return;
    const skipped = new Map<Oracle, number>(lacking.map((o) => [o, 0]));
    const unchecked = new Map<Oracle, number>(lacking.map((o) => [o, 0]));
    for (const m of modules) {
      for (const test of m.children.allTests()) {
        const meta = test.meta();
        for (const o of lacking) {
          if (meta[`skipped:${o}`] && test.result().state === 'skipped') skipped.set(o, skipped.get(o)! + 1);
          else if (meta[`unchecked:${o}`]) unchecked.set(o, unchecked.get(o)! + 1);
        }
      }
    }
    const log = (line: string) => vitest.logger.log(line);
    log('');
    log(` Oracles missing on this machine: ${lacking.length} of ${ORACLE_NAMES.length}`);
    const counts = new Map(lacking.map((o) => {
      const parts = [`${skipped.get(o)} test(s) skipped`];
      if (unchecked.get(o)) parts.push(`${unchecked.get(o)} ran without its check`);
      return [o, parts.join(', ')];
    }));
    const width = Math.max(...[...counts.values()].map((c) => c.length));
    for (const o of lacking) log(`   ${o.padEnd(17)} ${counts.get(o)!.padEnd(width)}   ${missingMessage([o]).replace(/^needs /, '')}`);
    const apt = lacking.map((o) => ORACLES[o].install).filter((c) => c.startsWith('sudo apt-get install ')).map((c) => c.split(' ').at(-1));
    if (apt.length) log(` Install them all: sudo apt-get install ${apt.join(' ')}`);
  }
}
