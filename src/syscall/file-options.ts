/**
 * The part of a socket's state that lives on its open file rather than in
 * the protocol handle: fcntl()'s flags (O_NONBLOCK, FD_CLOEXEC) and the
 * SOL_SOCKET options answered without asking the protocol (SO_TYPE,
 * SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_RCVTIMEO, SO_SNDTIMEO). Functions of
 * one OpenFile, apart from the Syscalls class, which checks the arguments,
 * finds the file and turns failures into SocketErrors.
 */
import { SocketError } from '../errno/socket-error.js';
import type { Duration } from '../time/duration.js';
import { constants as C } from './constants.js';
import { ZERO_TIMEVAL } from './open-file.js';
import type { OpenFile } from './open-file.js';
import { raise } from './socket-handle.js';
import type { SockOptValue, Timeval } from './sockopt.js';

function timevalToDuration(tv: Timeval): Duration | undefined {
  // Linux sock_set_timeout: {0,0} means "no timeout"; a negative tv_sec means
  // a zero timeout (fail at once). usec must be 0..999999 (Linux: EDOM, which
  // this errno table does not carry, so EINVAL).
  if (tv.usec < 0 || tv.usec >= 1_000_000) raise('EINVAL');
  if (tv.sec < 0) return 0 as Duration;
  if (tv.sec === 0 && tv.usec === 0) return undefined;
  return (tv.sec * 1_000_000 + tv.usec) as Duration;
}

/** getsockopt(SOL_SOCKET, name) when the file answers it; undefined: the protocol's option. */
export function fileSockopt(file: OpenFile, name: number): SockOptValue | undefined {
  const h = file.handle;
  switch (name) {
    case C.SO_TYPE:
      return h.type;
    case C.SO_DOMAIN:
      return h.family;
    case C.SO_PROTOCOL:
      return h.protocol;
    case C.SO_ERROR:
      return h.takeError();
    case C.SO_RCVTIMEO:
      return { ...file.rcvtimeoValue };
    case C.SO_SNDTIMEO:
      return { ...file.sndtimeoValue };
  }
  return undefined;
}

/** setsockopt(SOL_SOCKET, SO_RCVTIMEO or SO_SNDTIMEO, tv). */
export function setFileTimeout(file: OpenFile, name: number, tv: Timeval): void {
  const d = timevalToDuration(tv);
  if (name === C.SO_RCVTIMEO) {
    file.rcvtimeo = d;
    file.rcvtimeoValue = d === undefined ? ZERO_TIMEVAL : tv;
  } else {
    file.sndtimeo = d;
    file.sndtimeoValue = d === undefined ? ZERO_TIMEVAL : tv;
  }
}

/** fcntl()'s commands on an open file (see Syscalls.fcntl). */
export function fileFcntl(file: OpenFile, cmd: number, arg: number): number {
  switch (cmd) {
    case C.F_GETFL:
      return C.O_RDWR | (file.nonblock ? C.O_NONBLOCK : 0);
    case C.F_SETFL:
      // Linux ignores the access mode and creation bits here; O_NONBLOCK is what sockets heed.
      file.nonblock = (arg & C.O_NONBLOCK) !== 0;
      return 0;
    case C.F_GETFD:
      return file.cloexec ? C.FD_CLOEXEC : 0;
    case C.F_SETFD:
      file.cloexec = (arg & C.FD_CLOEXEC) !== 0;
      return 0;
    default:
      throw new SocketError('EINVAL', 'fcntl');
  }
}
