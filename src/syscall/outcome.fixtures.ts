/**
 * Test helpers for syscall outcomes (excluded from the build as *.fixtures.ts).
 */
import { isSocketError } from '../errno/socket-error.js';

/** "<syscall> <ERRNO>" for a call that fails with a socket error, 'ok' when it succeeds; other errors are rethrown. */
export async function errnoOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isSocketError(e)) return `${e.syscall} ${e.code}`;
    throw e;
  }
  return 'ok';
}

/** Wraps a promise so a test can ask whether it has settled yet (a rejection is not left unhandled). */
export function track<T>(p: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let done = false;
  const q = p.finally(() => {
    done = true;
  });
  q.catch(() => undefined);
  return { settled: () => done, promise: q };
}
