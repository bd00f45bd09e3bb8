import { defineConfig } from 'vitest/config';
import OracleSummaryReporter from './test/support/reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Probes the python modules, data sets and programs the tests use as oracles, once per run.
    globalSetup: ['test/support/globalSetup.ts'],
    // After vitest's summary: which oracles were missing and how many tests each made skip.
    reporters: ['default', new OracleSummaryReporter()],
  },
});
