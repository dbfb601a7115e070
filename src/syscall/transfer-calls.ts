/**
 * The general paths of the data calls: recvfrom() and recvmsg() (source
 * address, MSG_WAITALL), sendto() and sendmsg() (destination address, a
 * stream send that waits until everything is queued), and read(), write(),
 * recv() and send() whenever their one synchronous attempt in syscalls.ts
 * cannot answer at once. Waiting is blocking.ts's loop, with SO_RCVTIMEO and
 * SO_SNDTIMEO; errno failures reject the Promise, wrong argument types throw.
 */
import { SocketError } from '../errno/socket-error.js';
import type { SocketErrorDetails } from '../errno/socket-error.js';
import type { Clock } from '../time/clock.js';
import { blocking } from './blocking.js';
import { checkInt, sliceBuffers, totalLength } from './call-args.js';
import type { RecvMsgResult } from './call-records.js';
import { constants as C } from './constants.js';
import type { FdTable } from './fd-table.js';
import type { OpenFile } from './open-file.js';
import { failCall, toError } from './open-file.js';
import { describeSockAddr, formatEndpoint, isUnspec, parseSockAddrIn } from './sockaddr.js';
import { WOULD_BLOCK, raise, recvCount } from './socket-handle.js';
import type { Endpoint, RecvResult, SockAddr, SocketHandle, WouldBlock } from './socket-handle.js';

/** The flags send calls accept; others are EINVAL. */
export const FLAGS_SEND = C.MSG_OOB | C.MSG_DONTROUTE | C.MSG_DONTWAIT | C.MSG_EOR | C.MSG_NOSIGNAL | C.MSG_MORE | C.MSG_CONFIRM;
/** The flags receive calls accept; others are EINVAL. */
export const FLAGS_RECV = C.MSG_OOB | C.MSG_PEEK | C.MSG_TRUNC | C.MSG_DONTWAIT | C.MSG_WAITALL | C.MSG_ERRQUEUE | C.MSG_CMSG_CLOEXEC;

/** The open file behind `fd`, or EBADF. */
export function fileOf(fds: FdTable<OpenFile>, fd: unknown, syscall: string): OpenFile {
  checkInt(fd, 'fd');
  const f = fds.get(fd);
  if (f === undefined) throw new SocketError('EBADF', syscall);
  return f;
}

/**
 * Runs a possibly blocking call: validation (synchronous, may throw
 * TypeError) has happened; errno failures reject the returned Promise.
 */
export function asyncCall<T>(syscall: string, details: SocketErrorDetails, body: () => Promise<T>): Promise<T> {
  return body().catch((e: unknown) => {
    throw toError(e, syscall, details);
  });
}

/** Syscalls' read()/recv() when it must wait with SO_RCVTIMEO: recvCommon's blocking path minus its wrappers and the source address. */
export async function recvBytesBlocking(clock: Clock, syscall: string, file: OpenFile, bufs: readonly Uint8Array[], flags: number): Promise<number> {
  try {
    const h = file.handle;
    return await blocking(clock, file, false, file.rcvtimeo, (last) => recvCount(h, bufs, last ? flags | C.MSG_DONTWAIT : flags));
  } catch (e) {
    throw toError(e, syscall, {});
  }
}

export function recvCommon(clock: Clock, fds: FdTable<OpenFile>, syscall: string, fd: number, bufs: readonly Uint8Array[], flags: number): Promise<RecvMsgResult> {
  // Checked before any wait, synchronously: a descriptor of the wrong type
  // throws (failCall), EBADF and EINVAL reject.
  let file: OpenFile;
  try {
    file = fileOf(fds, fd, syscall);
    if ((flags & ~FLAGS_RECV) !== 0) raise('EINVAL');
  } catch (e) {
    return failCall(e, syscall, {});
  }
  return asyncCall(syscall, {}, async () => {
    const nonblock = file.nonblock || (flags & C.MSG_DONTWAIT) !== 0;
    const h = file.handle;
    const waitAll = h.type === C.SOCK_STREAM && (flags & C.MSG_WAITALL) !== 0 && (flags & C.MSG_PEEK) === 0;
    if (!waitAll) {
      // The handle sees MSG_DONTWAIT whenever this call will not wait (O_NONBLOCK,
      // or the last try after SO_RCVTIMEO expired), so SO_RCVLOWAT can give
      // what there is then instead of WOULD_BLOCK (Linux tcp_recvmsg).
      const r = await blocking(clock, file, nonblock, file.rcvtimeo, (last) =>
        h.recv(bufs, last ? flags | C.MSG_DONTWAIT : flags),
      );
      return recvResult(h, r);
    }
    // MSG_WAITALL on a stream: keep reading until the buffers are full, end of
    // stream, an error or a timeout; bytes already read win over a later error.
    const want = totalLength(bufs);
    let got = 0;
    let last: RecvResult | undefined;
    while (got < want) {
      const rest = sliceBuffers(bufs, got);
      let r: RecvResult;
      try {
        r = await blocking(clock, file, nonblock, file.rcvtimeo, () => h.recv(rest, flags));
      } catch (e) {
        if (got > 0) break;
        throw e;
      }
      last = r;
      if (r.bytesRead === 0) break;
      got += r.bytesRead;
    }
    return recvResult(h, { bytesRead: got, from: last?.from, flags: last?.flags ?? 0 });
  });
}

function recvResult(h: SocketHandle, r: RecvResult): RecvMsgResult {
  const from = r.from ?? h.remoteEndpoint() ?? { address: 0, port: 0 };
  const a = formatEndpoint(from);
  const out = { bytesRead: r.bytesRead, address: { address: a.address, port: a.port }, flags: r.flags };
  return r.error === undefined ? out : { ...out, error: r.error };
}

export function sendCommon(
  clock: Clock,
  fds: FdTable<OpenFile>,
  syscall: string,
  fd: number,
  bufs: readonly Uint8Array[],
  flags: number,
  addr: SockAddr | undefined,
): Promise<number> {
  const details = addr === undefined ? {} : describeSockAddr(addr);
  // Checked before any wait, synchronously: a wrong argument type (the
  // descriptor, the address's fields) throws (failCall), errnos reject.
  let file: OpenFile;
  let to: Endpoint | undefined;
  try {
    file = fileOf(fds, fd, syscall);
    if ((flags & ~FLAGS_SEND) !== 0) raise('EINVAL');
    // Linux: a destination on sendto is ignored for connected streams (EISCONN is
    // left to the handle); AF_UNSPEC means "no address", as a NULL sockaddr.
    to = addr === undefined || isUnspec(addr) ? undefined : parseSockAddrIn(addr);
  } catch (e) {
    return failCall(e, syscall, details);
  }
  return asyncCall(syscall, details, async () => {
    const h = file.handle;
    const nonblock = file.nonblock || (flags & C.MSG_DONTWAIT) !== 0;
    if (h.type !== C.SOCK_STREAM) {
      return blocking(clock, file, nonblock, file.sndtimeo, () => h.send(bufs, to, flags));
    }
    // A blocking stream send returns only when everything is queued (or on an
    // error after part of it went, which then reports the partial count).
    const want = totalLength(bufs);
    let sent = 0;
    // Linux sk_stream_wait_memory: a writer that found the buffer full sleeps
    // until sk_stream_write_space wakes it, which happens only once the socket
    // is writeable (sk_stream_is_writeable: free >= queued / 2, the POLLOUT
    // test), not at every ACK that frees a few bytes. So after a block, retry
    // only when the handle reports POLLOUT (or an error or hangup to report).
    let slept = false;
    const attempt = (rest: readonly Uint8Array[]): number | WouldBlock => {
      if (slept && (h.readiness() & (C.POLLOUT | C.POLLERR | C.POLLHUP)) === 0) return WOULD_BLOCK;
      const r = h.send(rest, to, flags);
      slept = r === WOULD_BLOCK;
      return r;
    };
    do {
      const rest = sliceBuffers(bufs, sent);
      let n: number;
      try {
        n = await blocking(clock, file, nonblock, file.sndtimeo, () => attempt(rest));
      } catch (e) {
        if (sent > 0) return sent;
        throw e;
      }
      sent += n;
      if (nonblock) return sent;
    } while (sent < want);
    return sent;
  });
}
