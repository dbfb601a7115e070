import { afterEach, describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import type { Lan } from '../../examples/tcp-net.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import { connect, parseSocketAddress } from './connect.js';
import { listen } from './connect.fixtures.js';
import { concatBytes as concat } from '../wire/bytes.js';

let net: Lan | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

async function readAll(sys: Syscalls, fd: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await sys.read(fd, buf);
    if (n === 0) break;
    parts.push(buf.slice(0, n));
  }
  return concat(parts);
}

async function readStream(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = r.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value.slice());
  }
  return concat(parts);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('connect() address forms', () => {
  it('parses "host:port", "[v6]:port" and objects', () => {
    expect(parseSocketAddress('10.0.0.1:80')).toEqual({ hostname: '10.0.0.1', port: 80 });
    expect(parseSocketAddress('[::1]:443')).toEqual({ hostname: '::1', port: 443 });
    expect(parseSocketAddress({ hostname: 'example', port: 1 })).toEqual({ hostname: 'example', port: 1 });
  });

  it.each([
    ['10.0.0.1', 'no port'],
    [':80', 'empty host'],
    ['10.0.0.1:', 'empty port'],
    ['10.0.0.1:99999', 'port too big'],
    ['10.0.0.1:0', 'port 0'],
    ['10.0.0.1:8x', 'not a number'],
  ])('throws a SocketError TypeError for %s (%s)', (addr) => {
    net = lan();
    const client = net.hosts[1]!.stack;
    expect(() => connect(client, addr)).toThrow(TypeError);
    expect(() => connect(client, addr)).toThrow(/^SocketError: /);
  });

  it('rejects malformed objects and TLS without a provider synchronously', () => {
    net = lan();
    const client = net.hosts[1]!.stack;
    expect(() => connect(client, { hostname: '', port: 80 })).toThrow(/^SocketError: /);
    expect(() => connect(client, { hostname: '10.0.0.1', port: 1.5 })).toThrow(/^SocketError: /);
    expect(() => connect(client, '10.0.0.1:80', { secureTransport: 'on' })).toThrow(/^SocketError: .*TLS/);
    expect(() => connect(client, '10.0.0.1:80', { secureTransport: 'starttls' })).toThrow(/^SocketError: /);
  });

  it.each([['string', '10.0.0.1:7000'] as const, ['object', { hostname: '10.0.0.1', port: 7000 }] as const])(
    'connects with the %s form and reports host:port addresses',
    async (_name, addr) => {
      net = lan();
      const [srv, cli] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
      const lfd = listen(srv.sys, 7000);
      const sock = connect(cli.stack, addr);
      const { fd } = await srv.sys.accept(lfd);
      const info = await sock.opened;
      expect(info.remoteAddress).toBe('10.0.0.1:7000');
      expect(info.localAddress).toMatch(/^10\.0\.0\.2:\d+$/);
      expect(sock.upgraded).toBe(false);
      expect(() => sock.startTls()).toThrow(/^SocketError: /);

      const w = sock.writable.getWriter();
      await w.write(enc.encode('ping'));
      const buf = new Uint8Array(16);
      const n = await srv.sys.read(fd, buf);
      expect(dec.decode(buf.subarray(0, n))).toBe('ping');
      await srv.sys.write(fd, enc.encode('pong'));
      const reader = sock.readable.getReader();
      const r = await reader.read();
      expect(dec.decode(r.value)).toBe('pong');
      reader.releaseLock();
      w.releaseLock();
      await sock.close();
      expect(await srv.sys.read(fd, buf)).toBe(0);
      srv.sys.close(fd);
    },
  );
});

describe('connect() failures', () => {
  it('a refused connect rejects opened and closed, errors both streams, and leaks no rejection', async () => {
    net = lan();
    const cli = net.hosts[1]!;
    const sock = connect(cli.stack, '10.0.0.1:1');
    await expect(sock.opened).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    await expect(sock.closed).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(sock.readable.getReader().read()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(sock.writable.getWriter().write(new Uint8Array(1))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(cli.sys.openFds()).toEqual([]);
  });

  it('an unawaited failing socket raises no unhandled rejection', async () => {
    net = lan();
    const cli = net.hosts[1]!;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      connect(cli.stack, '10.0.0.1:2');
      connect(cli.stack, 'no-such-host:80');
      await net.clock.idle();
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(cli.sys.openFds()).toEqual([]);
  });

  it('an unresolvable hostname rejects opened rather than throwing', async () => {
    net = lan();
    const sock = connect(net.hosts[1]!.stack, 'db.internal:5432');
    await expect(sock.opened).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
    await expect(sock.closed).rejects.toBeDefined();
  });

  it('a reset errors the readable and rejects closed with ECONNRESET', async () => {
    net = lan();
    const [srv, cli] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
    const lfd = listen(srv.sys, 7001);
    const sock = connect(cli.stack, '10.0.0.1:7001');
    const { fd } = await srv.sys.accept(lfd);
    await sock.opened;
    const reader = sock.readable.getReader();
    const pending = reader.read();
    srv.sys.setsockopt(fd, C.SOL_SOCKET, C.SO_LINGER, { onoff: 1, linger: 0 });
    srv.sys.close(fd);
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(sock.closed).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(sock.writable.getWriter().write(new Uint8Array(1))).rejects.toBeDefined();
    expect(cli.sys.openFds()).toEqual([]);
  });
});

describe('connect() half-open', () => {
  it('allowHalfOpen false: the peer FIN ends our writing half too', async () => {
    net = lan();
    const [srv, cli] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
    const lfd = listen(srv.sys, 7002);
    const sock = connect(cli.stack, '10.0.0.1:7002');
    const { fd } = await srv.sys.accept(lfd);
    await srv.sys.write(fd, enc.encode('bye'));
    srv.sys.shutdown(fd, C.SHUT_WR);
    expect(dec.decode(await readStream(sock.readable))).toBe('bye');
    // Our FIN follows without our closing the writable.
    expect((await readAll(srv.sys, fd)).length).toBe(0);
    await sock.closed;
    await expect(sock.writable.getWriter().write(new Uint8Array(1))).rejects.toThrow(/^SocketError: /);
    srv.sys.close(fd);
    expect(cli.sys.openFds()).toEqual([]);
  });

  it('allowHalfOpen true: we keep writing after the peer FIN', async () => {
    net = lan();
    const [srv, cli] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
    const lfd = listen(srv.sys, 7003);
    const sock = connect(cli.stack, { hostname: '10.0.0.1', port: 7003 }, { allowHalfOpen: true });
    const { fd } = await srv.sys.accept(lfd);
    srv.sys.shutdown(fd, C.SHUT_WR);
    expect((await readStream(sock.readable)).length).toBe(0);
    const w = sock.writable.getWriter();
    await w.write(enc.encode('still '));
    await w.write(enc.encode('here'));
    await w.close();
    expect(dec.decode(await readAll(srv.sys, fd))).toBe('still here');
    await sock.closed;
    srv.sys.close(fd);
  });

  it('closing our writable sends FIN while we keep reading', async () => {
    net = lan();
    const [srv, cli] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
    const lfd = listen(srv.sys, 7004);
    const sock = connect(cli.stack, '10.0.0.1:7004');
    const { fd } = await srv.sys.accept(lfd);
    const w = sock.writable.getWriter();
    await w.write(enc.encode('request'));
    await w.close();
    expect(dec.decode(await readAll(srv.sys, fd))).toBe('request');
    await srv.sys.write(fd, enc.encode('response'));
    srv.sys.close(fd);
    expect(dec.decode(await readStream(sock.readable))).toBe('response');
    await sock.closed;
    expect(cli.sys.openFds()).toEqual([]);
  });
});

describe('connect() bulk transfer', () => {
  it('pipes 64 MiB intact with bounded memory', async () => {
    net = lan();
    const [srv, cli] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
    const lfd = listen(srv.sys, 7005);
    const TOTAL = Number(process.env.PIPE_BYTES ?? 64 * 1024 * 1024);
    const CHUNK = 64 * 1024;
    // Deterministic content: byte i is (i * 7 + (i >>> 16)) & 0xff, so misordering shows.
    const byteAt = (i: number): number => (i * 7 + (i >>> 16)) & 0xff;
    let produced = 0;
    let received = 0;
    let maxInFlight = 0;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBase = process.memoryUsage();
    let maxHeap = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= TOTAL) {
          controller.close();
          return;
        }
        const c = new Uint8Array(CHUNK);
        for (let j = 0; j < CHUNK; j++) c[j] = byteAt(produced + j);
        produced += CHUNK;
        maxInFlight = Math.max(maxInFlight, produced - received);
        controller.enqueue(c);
      },
    }, { highWaterMark: 0 });
    const sock = connect(cli.stack, '10.0.0.1:7005');
    const accepted = srv.sys.accept(lfd);
    const pipe = source.pipeTo(sock.writable);
    const { fd } = await accepted;
    const buf = new Uint8Array(CHUNK);
    let mismatch = -1;
    for (;;) {
      const n = await srv.sys.read(fd, buf);
      if (n === 0) break;
      for (let j = 0; j < n; j++) {
        if (buf[j] !== byteAt(received + j)) {
          mismatch = received + j;
          break;
        }
      }
      received += n;
      if ((received & 0x3fffff) < n) {
        const m = process.memoryUsage();
        maxHeap = Math.max(maxHeap, m.heapUsed + m.arrayBuffers - heapBase.heapUsed - heapBase.arrayBuffers);
      }
      if (mismatch >= 0) break;
    }
    await pipe;
    expect(mismatch).toBe(-1);
    expect(received).toBe(TOTAL);
    // Deterministic bound: what the source produced ahead of the reader fits in
    // the socket buffers plus a few chunks; an unbounded pipe would run ~64 MiB ahead.
    expect(maxInFlight).toBeLessThan(8 * 1024 * 1024);
    // The heap bound is loose (garbage counts until collected), but far below 64 MiB.
    expect(maxHeap).toBeLessThan(48 * 1024 * 1024);
    srv.sys.close(fd);
    expect((await readStream(sock.readable)).length).toBe(0);
    await sock.closed;
  });
});

describe('stack.connect', () => {
  it('is the same web-standard connect, as a Stack method', async () => {
    net = lan({ hosts: 2 });
    const [server, client] = net.hosts as [Lan['hosts'][0], Lan['hosts'][0]];
    const lfd = listen(server.sys, 9050);
    const served = (async () => {
      const { fd } = await server.sys.accept(lfd);
      const got = await readAll(server.sys, fd);
      server.sys.close(fd);
      return new TextDecoder().decode(got);
    })();
    const socket = client.stack.connect(`${server.address}:9050`);
    const info = await socket.opened;
    expect(info.remoteAddress).toBe(`${server.address}:9050`);
    const writer = socket.writable.getWriter();
    await writer.write(new TextEncoder().encode('via stack.connect'));
    await writer.close();
    expect(await served).toBe('via stack.connect');
    await socket.close();
  });
});
