/**
 * How SocketHandles fail: an errno name only. The syscall layer adds the
 * call's name and address and builds the SocketError users see. A leaf
 * module so that every syscall-layer file may import it.
 */
import type { ErrnoName } from '../errno/errno.js';

/**
 * A failure of a handle operation. Only the errno name: the syscall layer adds
 * the syscall name and the address and builds the user-visible SocketError.
 */
export class HandleError extends Error {
  readonly code: ErrnoName;
  constructor(code: ErrnoName) {
    super(code);
    this.name = 'HandleError';
    this.code = code;
  }
}

/** Throws `HandleError(code)`; typed `never` so it ends control flow. */
export function raise(code: ErrnoName): never {
  throw new HandleError(code);
}
