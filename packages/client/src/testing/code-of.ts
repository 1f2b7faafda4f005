import { ConvergeError } from '@converge/conflict';

/** The code a promise rejects with: 'resolved' when it resolves, a note when the error is no ConvergeError. */
export const codeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof ConvergeError ? error.code : `not a ConvergeError: ${String(error)}`),
  );
