/**
 * Reports an error thrown by an app's listener without letting it reach the code that called
 * the listener (a status update, a sync session, a storage transaction): through the
 * platform's `reportError` where there is one (browsers: the console and `window.onerror`,
 * as an event listener's error), else rethrown in a microtask (an uncaught exception).
 */
export function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else
    queueMicrotask(() => {
      throw error;
    });
}

/** Calls an app's listener; what it throws is reported, never thrown to the caller. */
export function callListener<A extends unknown[]>(listener: (...args: A) => void, ...args: A): void {
  try {
    listener(...args);
  } catch (error) {
    reportListenerError(error);
  }
}
