/**
 * A problem with the user's input (a model we cannot parse, an argument out of range, an op we refuse to guess
 * about). The CLI prints its message as one line and exits with code 2; anything else that escapes is our bug (exit 1).
 */
export class UserError extends Error {
  override name = 'UserError';
}

export function fail(message: string): never {
  throw new UserError(message);
}
