/**
 * Syscall lines of a packetdrill script, evaluated against `stack.sys`.
 * packetdrill's `...` stands for "the obvious thing": the local address for
 * bind, the remote one for connect, a zero-filled buffer of the stated
 * length for writes.
 */
import type { Expression, SyscallSpec } from './ast.js';
import { structField } from './expr.js';
import { constants } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import type { SockOptValue } from '../syscall/sockopt.js';

export interface SyscallContext {
  readonly sys: Syscalls;
  readonly localIp: string;
  readonly remoteIp: string;
  readonly localPort: number;
  readonly remotePort: number;
  /**
   * packetdrill's socket table: the fd a script names (the value it expects
   * socket() or accept() to return) -> the fd the stack really returned.
   * Scripts written for a process with fd 3 already open say `= 4`.
   */
  readonly fds?: Map<number, number>;
}

/** What a call returned: a number, or an errno name. */
export type CallOutcome = { readonly value: number; readonly errno: null; readonly extra?: unknown } | { readonly value: -1; readonly errno: string };

export class UnsupportedSyscall extends Error {}

/** Linux names the constants table does not carry (SOL_TCP is IPPROTO_TCP as a level). */
const ALIASES: Readonly<Record<string, number>> = { SOL_TCP: 6, SOL_IP: 0, SOL_UDP: 17, MSG_ZEROCOPY: 0x4000000 };

const C = constants as unknown as Readonly<Record<string, number | string>>;

/** Evaluates an integer-ish argument: literals, constants, `A|B`, `htons()`. */
export function evalInt(e: Expression | undefined): number {
  if (e === undefined) throw new UnsupportedSyscall('missing argument');
  switch (e.kind) {
    case 'int':
      return e.value;
    case 'word': {
      if (e.name === 'NULL') return 0;
      const v = C[e.name] ?? ALIASES[e.name];
      if (typeof v === 'number') return v;
      throw new UnsupportedSyscall(`unknown constant ${e.name}`);
    }
    case 'or':
      return e.operands.reduce((acc, o) => acc | evalInt(o), 0);
    case 'array':
      return evalInt(e.elements[0]);
    case 'call':
      if ((e.name === 'htons' || e.name === 'htonl' || e.name === 'ntohs' || e.name === 'ntohl') && e.args.length === 1) {
        return evalInt(e.args[0]);
      }
      throw new UnsupportedSyscall(`unknown function ${e.name}()`);
    default:
      throw new UnsupportedSyscall(`cannot evaluate ${e.kind} as an integer`);
  }
}

function isNull(e: Expression | undefined): boolean {
  return e?.kind === 'word' && e.name === 'NULL';
}

function efault(): CallOutcome {
  return { value: -1, errno: 'EFAULT' };
}

function buffer(len: Expression | undefined): Uint8Array {
  return new Uint8Array(evalInt(len));
}

/** Total iov_len of an `msg_iov(N)=[{iov_base=..., iov_len=100}, ...]` array, as buffers. */
function iovs(msg: Expression | undefined): Uint8Array[] {
  if (msg === undefined) return [];
  const iov = structField(msg, 'msg_iov');
  const elements = iov?.kind === 'array' ? iov.elements : [];
  return elements.map((el) => {
    const l = structField(el, 'iov_len');
    if (l !== undefined) return new Uint8Array(evalInt(l));
    // `{..., 100}`: the second positional field is the length.
    if (el.kind === 'struct') return new Uint8Array(evalInt(el.fields[1]));
    return new Uint8Array(0);
  });
}

function sockoptValue(level: number, name: number, e: Expression | undefined): SockOptValue {
  if (e === undefined) throw new UnsupportedSyscall('missing option value');
  if (e.kind === 'struct') {
    const onoff = structField(e, 'onoff');
    if (onoff !== undefined) return { onoff: evalInt(onoff), linger: evalInt(structField(e, 'linger')) };
    const sec = structField(e, 'tv_sec');
    if (sec !== undefined) return { sec: evalInt(sec), usec: evalInt(structField(e, 'tv_usec')) };
    throw new UnsupportedSyscall('unsupported option struct');
  }
  if (e.kind === 'string') return e.value;
  void level;
  void name;
  return asCInt(evalInt(e));
}

/**
 * A script's `[0xffffffff]` is the 4 bytes the kernel reads as an int: -1.
 * Values from 2^31 to 2^32-1 are taken as the int with the same bits.
 */
function asCInt(v: number): number {
  return v > 0x7fff_ffff && v <= 0xffff_ffff ? v | 0 : v;
}

async function settle<T>(p: Promise<T> | (() => T)): Promise<{ ok: true; value: T } | { ok: false; errno: string }> {
  try {
    const v = typeof p === 'function' ? p() : await p;
    return { ok: true, value: v };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return { ok: false, errno: code };
    throw e;
  }
}

function outcome<T>(r: { ok: true; value: T } | { ok: false; errno: string }, map: (v: T) => number): CallOutcome {
  return r.ok ? { value: map(r.value), errno: null, extra: r.value } : { value: -1, errno: r.errno };
}

/** Starts a syscall; the returned promise settles when the call returns. */
export function startSyscall(call: SyscallSpec, ctx: SyscallContext): Promise<CallOutcome> {
  const a = call.args;
  const sys = ctx.sys;
  const live = (scriptFd: number): number => ctx.fds?.get(scriptFd) ?? scriptFd;
  const fd = (): number => live(evalInt(a[0]));
  /** A new fd: the script's name for it is the value it expects back. */
  const newFd = (v: number): number => {
    const want = call.result.kind === 'int' ? call.result.value : null;
    if (want === null || want < 0 || ctx.fds === undefined) return v;
    ctx.fds.set(want, v);
    return want;
  };
  const local = { family: constants.AF_INET, address: ctx.localIp, port: ctx.localPort };
  const remote = { family: constants.AF_INET, address: ctx.remoteIp, port: ctx.remotePort };
  switch (call.name) {
    case 'socket': {
      const domain = a[0]?.kind === 'ellipsis' ? constants.AF_INET : evalInt(a[0]);
      return settle(() => sys.socket(domain, evalInt(a[1]), evalInt(a[2]))).then((r) => outcome(r, newFd));
    }
    case 'bind':
      return settle(() => {
        sys.bind(fd(), local);
      }).then((r) => outcome(r, () => 0));
    case 'listen':
      return settle(() => {
        sys.listen(fd(), evalInt(a[1]));
      }).then((r) => outcome(r, () => 0));
    case 'accept':
    case 'accept4':
      return settle(sys.accept(fd(), call.name === 'accept4' ? evalInt(a[3]) : 0)).then((r) => outcome(r, (v) => newFd(v.fd)));
    case 'connect':
      return settle(sys.connect(fd(), remote)).then((r) => outcome(r, () => 0));
    case 'read':
      if (isNull(a[1])) return Promise.resolve(efault());
      return settle(sys.read(fd(), buffer(a[2]))).then((r) => outcome(r, (v) => v));
    case 'recv':
      if (isNull(a[1])) return Promise.resolve(efault());
      return settle(sys.recv(fd(), buffer(a[2]), evalInt(a[3]))).then((r) => outcome(r, (v) => v));
    case 'recvfrom':
      if (isNull(a[1])) return Promise.resolve(efault());
      return settle(sys.recvfrom(fd(), buffer(a[2]), evalInt(a[3]))).then((r) => outcome(r, (v) => v.bytesRead));
    case 'recvmsg':
      return settle(sys.recvmsg(fd(), { iov: iovs(a[1]) }, evalInt(a[2]))).then((r) => outcome(r, (v) => v.bytesRead));
    case 'write':
      if (isNull(a[1])) return Promise.resolve(efault());
      return settle(sys.write(fd(), buffer(a[2]))).then((r) => outcome(r, (v) => v));
    case 'send':
      if (isNull(a[1])) return Promise.resolve(efault());
      return settle(sys.send(fd(), buffer(a[2]), evalInt(a[3]))).then((r) => outcome(r, (v) => v));
    case 'sendto':
      if (isNull(a[1])) return Promise.resolve(efault());
      return settle(sys.sendto(fd(), buffer(a[2]), evalInt(a[3]))).then((r) => outcome(r, (v) => v));
    case 'sendmsg':
      return settle(sys.sendmsg(fd(), { iov: iovs(a[1]) }, evalInt(a[2]))).then((r) => outcome(r, (v) => v));
    case 'writev':
      return settle(sys.sendmsg(fd(), { iov: iovs({ kind: 'struct', fields: [{ kind: 'assign', target: { kind: 'word', name: 'msg_iov' }, value: a[1] ?? { kind: 'array', elements: [] } }] }) })).then((r) =>
        outcome(r, (v) => v),
      );
    case 'shutdown':
      return settle(() => {
        sys.shutdown(fd(), evalInt(a[1]));
      }).then((r) => outcome(r, () => 0));
    case 'close':
      return settle(() => {
        sys.close(fd());
      }).then((r) => outcome(r, () => 0));
    case 'getsockname':
    case 'getpeername':
      return settle(() => (call.name === 'getsockname' ? sys.getsockname(fd()) : sys.getpeername(fd()))).then((r) => outcome(r, () => 0));
    case 'setsockopt': {
      const level = evalInt(a[1]);
      const name = evalInt(a[2]);
      return settle(() => {
        sys.setsockopt(fd(), level, name, sockoptValue(level, name, a[3]));
      }).then((r) => outcome(r, () => 0));
    }
    case 'getsockopt':
      return settle(() => sys.getsockopt(fd(), evalInt(a[1]), evalInt(a[2]))).then((r) => outcome(r, () => 0));
    case 'fcntl':
      return settle(() => sys.fcntl(fd(), evalInt(a[1]), a.length > 2 ? evalInt(a[2]) : 0)).then((r) => outcome(r, (v) => v));
    case 'poll': {
      const arr = a[0]?.kind === 'array' ? a[0].elements : [];
      const fds = arr.map((p) => ({ fd: live(evalInt(structField(p, 'fd'))), events: evalInt(structField(p, 'events')) }));
      return settle(sys.poll(fds, evalInt(a[2]))).then((r) => outcome(r, (v) => v.filter((x) => x.revents !== 0).length));
    }
    default:
      return Promise.reject(new UnsupportedSyscall(`unsupported syscall ${call.name}()`));
  }
}

/** Checks the out-values a call filled in (getsockopt's value, poll's revents); null when they match. */
export function checkOutValues(call: SyscallSpec, extra: unknown): string | null {
  if (call.name === 'getsockopt') {
    const want = call.args[3];
    if (want === undefined || want.kind === 'ellipsis') return null;
    const got = extra;
    if (typeof got === 'number') {
      const w = asCInt(evalInt(want));
      return w === got ? null : `option value ${w}, got ${got}`;
    }
    if (want.kind === 'string' && typeof got === 'string') return want.value === got ? null : `option value "${want.value}", got "${got}"`;
    return null;
  }
  if (call.name === 'poll' && Array.isArray(extra)) {
    const arr = call.args[0]?.kind === 'array' ? call.args[0].elements : [];
    for (let i = 0; i < arr.length; i++) {
      const r = structField(arr[i] ?? { kind: 'ellipsis' }, 'revents');
      const got = (extra[i] as { revents?: number } | undefined)?.revents ?? 0;
      if (r !== undefined && evalInt(r) !== got) return `revents ${evalInt(r)}, got ${got}`;
    }
  }
  return null;
}
