import type { Node } from '../../ir/node.js';

/**
 * The engine cannot carry out an edit it planned at this node: a gap in a rule, never bad user input. Trial rewrites
 * turn it into a declined group (see verify.ts); in a real rewrite it is our bug.
 */
export class RewriteGap extends Error {
  constructor(readonly node: Node, message: string) {
    super(`internal: ${message}`);
  }
}
