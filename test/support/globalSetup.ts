import type { TestProject } from 'vitest/node';
import { probeOracles, type OracleStatus } from './oracles.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Which oracles this machine has, probed once per run (test/support/oracles.ts). */
    oracles: OracleStatus;
  }
}

/** Probes the oracles once for the whole run; test files read the result with `inject('oracles')`. */
export default function setup(project: TestProject): void {
  project.provide('oracles', probeOracles());
}
