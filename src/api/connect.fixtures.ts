/** Test helpers for the connect() tests (excluded from the build as *.fixtures.ts). */
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';

/** A listening TCP socket (SO_REUSEADDR, backlog 16) on 0.0.0.0:`port`. */
export function listen(sys: Syscalls, port: number): number {
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(fd, { address: '0.0.0.0', port });
  sys.listen(fd, 16);
  return fd;
}
