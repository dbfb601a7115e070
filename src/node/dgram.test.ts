/**
 * One suite of `dgram` behaviours, run against Node's real `dgram` on
 * 127.0.0.1 and against sockstack's drop-in over two stacks on a virtual
 * LAN: same cases, same assertions. A case that passes on Node and fails on
 * sockstack is a drop-in bug.
 */
import * as nodeDgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import { createDgram } from './dgram.js';

interface AddressLike {
  address: string;
  family: string;
  port: number;
}

interface SocketLike {
  bind(port: number, address: string, cb?: () => void): unknown;
  send(msg: unknown, ...rest: unknown[]): void;
  connect(port: number, address: string, cb?: () => void): void;
  disconnect(): void;
  remoteAddress(): AddressLike;
  address(): AddressLike;
  setBroadcast(flag: boolean): void;
  setTTL(ttl: number): number;
  setRecvBufferSize(n: number): void;
  getRecvBufferSize(): number;
  close(cb?: () => void): unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
  once(event: string, fn: (...args: never[]) => void): unknown;
}

interface DgramLike {
  createSocket(type: 'udp4' | { type: 'udp4'; reuseAddr?: boolean }): SocketLike;
}

interface DgramSubject {
  /** The module of the first host (a) and of the second (b). */
  readonly a: DgramLike;
  readonly b: DgramLike;
  readonly hostA: string;
  readonly hostB: string;
  /** A directed broadcast address both hosts can reach. */
  readonly broadcast: string;
  readonly close?: () => void;
}

type Rinfo = AddressLike & { size: number };

function once<T extends unknown[]>(em: SocketLike, event: string): Promise<T> {
  return new Promise((resolve) => {
    em.once(event, (...a: never[]) => resolve(a as unknown as T));
  });
}

async function bound(m: DgramLike, host: string, port = 0): Promise<SocketLike> {
  const s = m.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(port, host, resolve));
  return s;
}

function closeAll(...socks: SocketLike[]): Promise<unknown> {
  return Promise.all(socks.map((s) => new Promise<void>((resolve) => s.close(resolve))));
}

function dgramConformance(name: string, make: () => DgramSubject): void {
  describe(`dgram conformance: ${name}`, () => {
    const withSubject = (fn: (s: DgramSubject) => Promise<void>) => async () => {
      const s = make();
      try {
        await fn(s);
      } finally {
        s.close?.();
      }
    };

    it('sends and receives with rinfo, address(), send callback bytes', withSubject(async (s) => {
      const rx = await bound(s.b, s.hostB);
      const tx = await bound(s.a, s.hostA);
      const rxAddr = rx.address();
      expect(rxAddr).toEqual({ address: s.hostB, family: 'IPv4', port: rxAddr.port });
      expect(rxAddr.port).toBeGreaterThan(0);
      const got = once<[Buffer, Rinfo]>(rx, 'message');
      const bytes = await new Promise<number | undefined>((resolve, reject) => {
        tx.send('hello', rxAddr.port, s.hostB, (err: Error | null, n?: number) => (err ? reject(err) : resolve(n)));
      });
      expect(bytes).toBe(5);
      const [msg, rinfo] = await got;
      expect(Buffer.isBuffer(msg)).toBe(true);
      expect(msg.toString()).toBe('hello');
      expect(rinfo).toEqual({ address: s.hostA, family: 'IPv4', port: tx.address().port, size: 5 });

      // Buffer lists and offset/length.
      const two = once<[Buffer, Rinfo]>(rx, 'message');
      tx.send([Buffer.from('ab'), 'cd'], rxAddr.port, s.hostB);
      expect((await two)[0].toString()).toBe('abcd');
      const three = once<[Buffer, Rinfo]>(rx, 'message');
      tx.send(Buffer.from('xxhixx'), 2, 2, rxAddr.port, s.hostB);
      const [m3, r3] = await three;
      expect(m3.toString()).toBe('hi');
      expect(r3.size).toBe(2);
      await closeAll(rx, tx);
    }));

    it('binds implicitly on the first send', withSubject(async (s) => {
      const rx = await bound(s.b, s.hostB);
      const tx = s.a.createSocket('udp4');
      const listening = once(tx, 'listening');
      const got = once<[Buffer, Rinfo]>(rx, 'message');
      tx.send(Uint8Array.of(1, 2, 3), rx.address().port, s.hostB);
      await listening;
      const [msg, rinfo] = await got;
      expect([...msg]).toEqual([1, 2, 3]);
      expect(rinfo.port).toBe(tx.address().port);
      expect(tx.address().address).toBe('0.0.0.0');
      await closeAll(rx, tx);
    }));

    it('connect: sends without an address, remoteAddress(), disconnect()', withSubject(async (s) => {
      const rx = await bound(s.b, s.hostB);
      const port = rx.address().port;
      const tx = await bound(s.a, s.hostA);
      expect(() => tx.remoteAddress()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }));
      await new Promise<void>((resolve) => tx.connect(port, s.hostB, resolve));
      expect(tx.remoteAddress()).toEqual({ address: s.hostB, family: 'IPv4', port });
      expect(() => tx.connect(port, s.hostB)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }));
      expect(() => tx.send('x', port, s.hostB, () => undefined)).toThrow(
        expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }),
      );
      const got = once<[Buffer, Rinfo]>(rx, 'message');
      const bytes = await new Promise<number | undefined>((resolve, reject) => {
        tx.send('connected', (err: Error | null, n?: number) => (err ? reject(err) : resolve(n)));
      });
      expect(bytes).toBe(9);
      expect((await got)[0].toString()).toBe('connected');

      tx.disconnect();
      expect(() => tx.remoteAddress()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }));
      expect(() => tx.disconnect()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }));
      // Unconnected again: a port is required, and an explicit destination works.
      expect(() => tx.send('x')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
      const again = once<[Buffer, Rinfo]>(rx, 'message');
      tx.send('again', port, s.hostB);
      expect((await again)[0].toString()).toBe('again');
      await closeAll(rx, tx);
    }));

    it('broadcast: EACCES without setBroadcast, sent with it', withSubject(async (s) => {
      const tx = await bound(s.a, s.hostA);
      const err = await new Promise<Error | null>((resolve) => {
        tx.send('b', 9, s.broadcast, (e: Error | null) => resolve(e));
      });
      expect(err).toMatchObject({ code: 'EACCES', errno: -13, syscall: 'send', address: s.broadcast, port: 9 });
      // Without a callback Node drops a failed send silently (no 'error' event).
      let errors = 0;
      tx.on('error', () => errors++);
      tx.send('b', 9, s.broadcast);
      tx.setBroadcast(true);
      const ok = await new Promise<Error | null>((resolve) => {
        tx.send('b', 9, s.broadcast, (e: Error | null) => resolve(e));
      });
      expect(ok).toBeNull();
      expect(errors).toBe(0);
      await closeAll(tx);
    }));

    it('bind to a port in use emits EADDRINUSE; a second bind() throws', withSubject(async (s) => {
      const first = await bound(s.a, s.hostA);
      const port = first.address().port;
      expect(() => first.bind(0, s.hostA)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_ALREADY_BOUND' }));
      const second = s.a.createSocket('udp4');
      const ev = once<[Error]>(second, 'error');
      second.bind(port, s.hostA);
      const [err] = await ev;
      expect(err).toMatchObject({ code: 'EADDRINUSE', errno: -98, syscall: 'bind', address: s.hostA, port });
      expect(err.message).toBe(`bind EADDRINUSE ${s.hostA}:${port}`);
      await closeAll(first, second);
    }));

    it('options: setTTL range, receive buffer size', withSubject(async (s) => {
      const sock = await bound(s.a, s.hostA);
      expect(sock.setTTL(64)).toBe(64);
      expect(() => sock.setTTL(0)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'setTTL' }));
      sock.setRecvBufferSize(65536);
      // Linux doubles SO_RCVBUF for bookkeeping; either value is a faithful answer.
      expect([65536, 131072]).toContain(sock.getRecvBufferSize());
      await closeAll(sock);
    }));

    it('close: emits close once, stops receiving, then throws NOT_RUNNING', withSubject(async (s) => {
      const rx = await bound(s.b, s.hostB);
      const port = rx.address().port;
      let messages = 0;
      rx.on('message', () => messages++);
      let closes = 0;
      rx.on('close', () => closes++);
      await new Promise<void>((resolve) => rx.close(resolve));
      expect(closes).toBe(1);
      expect(() => rx.close()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
      expect(() => rx.address()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
      expect(() => rx.send('x', port, s.hostB)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
      // Something sent to the old port afterwards reaches no one.
      const tx = await bound(s.a, s.hostA);
      await new Promise<void>((resolve) => {
        tx.send('late', port, s.hostB, () => resolve());
      });
      const probe = await bound(s.b, s.hostB);
      const got = once(probe, 'message');
      tx.send('probe', probe.address().port, s.hostB);
      await got; // later than 'late' would have arrived
      expect(messages).toBe(0);
      expect(closes).toBe(1);
      await closeAll(tx, probe);
    }));
  });
}

dgramConformance('node:dgram on loopback', () => ({
  a: nodeDgram as unknown as DgramLike,
  b: nodeDgram as unknown as DgramLike,
  hostA: '127.0.0.1',
  hostB: '127.0.0.1',
  broadcast: '127.255.255.255',
}));

dgramConformance('sockstack dgram (two stacks, virtual clock)', () => {
  const l = lan({ seed: 8 });
  const [ha, hb] = l.hosts as [(typeof l.hosts)[0], (typeof l.hosts)[0]];
  return {
    a: createDgram(ha.stack) as unknown as DgramLike,
    b: createDgram(hb.stack) as unknown as DgramLike,
    hostA: ha.address,
    hostB: hb.address,
    broadcast: '10.0.0.255',
    close: () => l.close(),
  };
});

describe('createDgram specifics', () => {
  it('rejects other socket types, and takes a message listener', async () => {
    const l = lan({ seed: 9 });
    try {
      const [ha, hb] = l.hosts as [(typeof l.hosts)[0], (typeof l.hosts)[0]];
      const da = createDgram(ha.stack);
      const db = createDgram(hb.stack);
      expect(() => da.createSocket('udp6' as 'udp4')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_TYPE' }));
      const got = new Promise<string>((resolve) => {
        const rx = db.createSocket({ type: 'udp4', reuseAddr: true }, (msg) => {
          resolve(msg.toString());
          rx.close();
        });
        rx.bind({ port: 5353, address: hb.address, exclusive: true }, () => {
          const tx = da.createSocket('udp4');
          tx.send('via listener', 5353, hb.address, () => tx.close());
        });
      });
      expect(await got).toBe('via listener');
    } finally {
      l.close();
    }
  });
});
