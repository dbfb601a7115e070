import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Errno, strerror } from './errno.js';
import type { ErrnoName } from './errno.js';
import { SocketError, isSocketError, socketError } from './socket-error.js';

// A real Node system error for a refused loopback connect, to compare shapes.
type NodeNetError = NodeJS.ErrnoException & { address?: string; port?: number };
async function nodeConnectRefused(): Promise<NodeNetError> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      reject(new Error('connected to a closed port'));
    });
    s.on('error', (err: NodeNetError) => resolve(err));
  });
}

describe('SocketError', () => {
  it('carries code, negated errno, syscall, address and port', () => {
    const e = new SocketError('ECONNREFUSED', 'connect', { address: '10.0.0.2', port: 80 });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(SocketError);
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.errno).toBe(-111);
    expect(e.syscall).toBe('connect');
    expect(e.address).toBe('10.0.0.2');
    expect(e.port).toBe(80);
    expect(e.name).toBe('SocketError');
    expect(e.message).toBe('connect ECONNREFUSED 10.0.0.2:80');
    expect(String(e)).toBe('SocketError: connect ECONNREFUSED 10.0.0.2:80');
    expect(strerror(e.code)).toBe('Connection refused');
  });

  it('errno works with Node helpers, and -errno is the Linux value', () => {
    const e = socketError('ENOTCONN', 'send');
    expect(getSystemErrorName(e.errno)).toBe('ENOTCONN');
    expect(-e.errno).toBe(Errno.ENOTCONN);
    expect(-e.errno).toBe(107);
  });

  it('formats the message like Node', () => {
    expect(socketError('ECONNRESET', 'read').message).toBe('read ECONNRESET');
    expect(socketError('EADDRINUSE', 'bind', { address: '0.0.0.0', port: 8080 }).message).toBe(
      'bind EADDRINUSE 0.0.0.0:8080',
    );
    expect(socketError('ECONNREFUSED', 'connect', { address: '::1', port: 80 }).message).toBe(
      'connect ECONNREFUSED ::1:80',
    );
    // Port 0 means "none", as in Node: left out of the message and the object.
    const zero = socketError('EADDRNOTAVAIL', 'bind', { address: '10.9.9.9', port: 0 });
    expect(zero.message).toBe('bind EADDRNOTAVAIL 10.9.9.9');
    expect('port' in zero).toBe(false);
    expect(socketError('EINVAL', 'bind', { port: 53 }).message).toBe('bind EINVAL :53');
  });

  it('always contains the code name, for grepping', () => {
    for (const code of Object.keys(Errno) as ErrnoName[]) {
      const e = socketError(code, 'sendto', { address: '192.0.2.1', port: 9 });
      expect(e.message).toContain(e.code);
    }
  });

  it('has exactly the own enumerable keys of a Node system error, in order', () => {
    expect(Object.keys(socketError('ECONNREFUSED', 'connect', { address: '10.0.0.2', port: 80 }))).toEqual([
      'errno',
      'code',
      'syscall',
      'address',
      'port',
    ]);
    const bare = socketError('EBADF', 'close');
    expect(Object.keys(bare)).toEqual(['errno', 'code', 'syscall']);
    expect('address' in bare).toBe(false);
    expect('port' in bare).toBe(false);
  });

  it('matches the shape of a real Node ECONNREFUSED over loopback', async () => {
    const real = await nodeConnectRefused();
    const ours = socketError('ECONNREFUSED', 'connect', { address: real.address!, port: real.port! });
    expect(ours.message).toBe(real.message);
    expect(ours.errno).toBe(real.errno);
    expect({ ...ours }).toEqual({ ...real });
    expect(Object.keys(ours)).toEqual(Object.keys(real));
  });

  it('canonicalises aliases and accepts numbers of either sign', () => {
    const a = new SocketError('EWOULDBLOCK', 'recv');
    expect(a.code).toBe('EAGAIN');
    expect(a.errno).toBe(-11);
    expect(a.message).toBe('recv EAGAIN');
    expect(new SocketError('ENOTSUP', 'listen').code).toBe('EOPNOTSUPP');
    expect(new SocketError(111, 'connect').code).toBe('ECONNREFUSED');
    expect(new SocketError(-104, 'read').code).toBe('ECONNRESET');
  });

  it('throws RangeError for an unknown errno (a programmer error)', () => {
    expect(() => new SocketError(9999, 'connect')).toThrow(RangeError);
    expect(() => new SocketError(0, 'connect')).toThrow(RangeError);
    expect(() => new SocketError('ENOPE' as ErrnoName, 'connect')).toThrow(RangeError);
    expect(() => new SocketError('toString' as ErrnoName, 'connect')).toThrow(RangeError);
  });

  it('keeps a cause', () => {
    const cause = new Error('link down');
    const e = socketError('ENETDOWN', 'sendto', { cause });
    expect(e.cause).toBe(cause);
    expect(Object.keys(e)).not.toContain('cause');
    expect('cause' in socketError('ENETDOWN', 'sendto')).toBe(false);
  });

  it('has a stack', () => {
    expect(socketError('ETIMEDOUT', 'connect').stack).toContain('ETIMEDOUT');
  });
});

describe('isSocketError', () => {
  const e = socketError('EAGAIN', 'accept');

  it('recognises SocketErrors and rejects everything else', () => {
    expect(isSocketError(e)).toBe(true);
    expect(isSocketError(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(isSocketError(Object.assign(new Error('x'), { code: 'EAGAIN', errno: -11, syscall: 'accept' }))).toBe(false);
    for (const v of [null, undefined, 0, 'EAGAIN', {}, []]) expect(isSocketError(v)).toBe(false);
  });

  it('filters by code, comparing numbers so aliases match', () => {
    expect(isSocketError(e, 'EAGAIN')).toBe(true);
    expect(isSocketError(e, 'EWOULDBLOCK')).toBe(true);
    expect(isSocketError(e, 'EINPROGRESS')).toBe(false);
    expect(isSocketError(socketError('EOPNOTSUPP', 'listen'), 'ENOTSUP')).toBe(true);
    expect(isSocketError(e, 'toString' as ErrnoName)).toBe(false);
  });

  it('recognises a SocketError from another copy of the module', () => {
    // Simulates a second copy of the package: a different class with the same registered brand.
    const foreign: unknown = Object.assign(Object.create({ [Symbol.for('sockstack.SocketError')]: true }) as object, {
      errno: -111,
      code: 'ECONNREFUSED',
      syscall: 'connect',
    });
    expect(isSocketError(foreign)).toBe(true);
    expect(isSocketError(foreign, 'ECONNREFUSED')).toBe(true);
    expect(isSocketError(foreign, 'ETIMEDOUT')).toBe(false);
  });

  it('narrows the type', () => {
    const x: unknown = socketError('EPIPE', 'write');
    if (isSocketError(x)) expect(x.syscall).toBe('write');
    else expect.unreachable();
  });
});
