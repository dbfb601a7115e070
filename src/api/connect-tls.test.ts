/**
 * connect()'s TLS plumbing with a toy provider written against the core's
 * TlsProvider interface only (no node:tls): what SecureSocket does with
 * any provider, in any runtime. The toy "cipher" XORs every byte after a
 * one-line hello / one-byte verdict handshake; real TLS is in
 * src/node/tls.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import type { Lan } from '../../examples/tcp-net.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import { connect } from './connect.js';
import { listen } from './connect.fixtures.js';
import type { TlsProvider, TlsStartOptions } from './tls-provider.js';

const KEY = 0x5a;
const enc = new TextEncoder();
const dec = new TextDecoder();
const xor = (b: Uint8Array): Uint8Array => b.map((x) => x ^ KEY);

/** The toy provider: sends "HELLO <hostname>\n", needs 'K' back (anything else fails the handshake). */
function toyTls(seen: TlsStartOptions[] = []): TlsProvider {
  return {
    start(plain, where) {
      seen.push(where);
      const reader = plain.readable.getReader();
      const writer = plain.writable.getWriter();
      let leftover: Uint8Array | undefined;
      const handshake = (async () => {
        await writer.write(enc.encode(`HELLO ${where.hostname}\n`));
        const r = await reader.read();
        if (r.done || r.value[0] !== 0x4b) throw new Error(`toy handshake refused by ${where.hostname}`);
        if (r.value.length > 1) leftover = r.value.subarray(1);
      })();
      handshake.catch(() => undefined);
      const readable = new ReadableStream<Uint8Array>({
        pull: async (c) => {
          await handshake;
          if (leftover !== undefined) {
            c.enqueue(xor(leftover));
            leftover = undefined;
            return;
          }
          const r = await reader.read();
          if (r.done) c.close();
          else c.enqueue(xor(r.value));
        },
        cancel: (e) => reader.cancel(e),
      });
      const writable = new WritableStream<Uint8Array>({
        write: async (chunk) => {
          await handshake;
          await writer.write(xor(chunk));
        },
        close: () => writer.close(),
        abort: (e) => writer.abort(e),
      });
      return { readable, writable, handshake };
    },
  };
}

let net: Lan | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
});

/** Reads one line ("...\n") byte by byte, so nothing after it is consumed. */
async function readLine(sys: Syscalls, fd: number): Promise<string> {
  let line = '';
  const b = new Uint8Array(1);
  while ((await sys.read(fd, b)) === 1) {
    line += String.fromCharCode(b[0] ?? 0);
    if (line.endsWith('\n')) break;
  }
  return line;
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<string> {
  let s = '';
  const reader = r.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return s;
    s += dec.decode(value);
  }
}

type Hosts = [Lan['hosts'][number], Lan['hosts'][number]];

describe('connect() over a TlsProvider (toy cipher, no node:tls)', () => {
  it('"on": handshake before opened, ciphertext on the wire, cleartext in the streams', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    const lfd = listen(srv.sys, 443);
    const seen: TlsStartOptions[] = [];
    const sock = connect(cli.stack, '10.0.0.1:443', { secureTransport: 'on', tls: toyTls(seen) });
    const { fd } = await srv.sys.accept(lfd);
    expect(await readLine(srv.sys, fd)).toBe('HELLO 10.0.0.1\n');
    expect(seen).toEqual([{ hostname: '10.0.0.1', port: 443 }]);
    let opened = false;
    void sock.opened.then(() => (opened = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(opened).toBe(false); // still in the handshake
    // The verdict and the first record in one segment: the provider keeps the rest.
    await srv.sys.write(fd, new Uint8Array([0x4b, ...xor(enc.encode('hi'))]));
    expect((await sock.opened).remoteAddress).toBe('10.0.0.1:443');

    const w = sock.writable.getWriter();
    await w.write(enc.encode('secret'));
    const buf = new Uint8Array(64);
    const n = await srv.sys.read(fd, buf);
    expect(buf.subarray(0, n)).toEqual(xor(enc.encode('secret')));
    await srv.sys.write(fd, xor(enc.encode(' there')));
    srv.sys.shutdown(fd, C.SHUT_WR);
    // allowHalfOpen false: the peer's end ends the readable and our writing half.
    expect(await readAll(sock.readable)).toBe('hi there');
    expect(await srv.sys.read(fd, buf)).toBe(0);
    await sock.closed;
    srv.sys.close(fd);
  });

  it('a failed handshake rejects opened and closed with the provider error, errors the streams, leaks no rejection', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    const lfd = listen(srv.sys, 443);
    const sock = connect(cli.stack, { hostname: '10.0.0.1', port: 443 }, { secureTransport: 'on', tls: toyTls() });
    const { fd } = await srv.sys.accept(lfd);
    await readLine(srv.sys, fd);
    await srv.sys.write(fd, enc.encode('N'));
    await expect(sock.opened).rejects.toThrow('toy handshake refused by 10.0.0.1');
    await expect(sock.closed).rejects.toThrow('toy handshake refused');
    await expect(sock.readable.getReader().read()).rejects.toThrow('toy handshake refused');
    await expect(sock.writable.getWriter().write(enc.encode('x'))).rejects.toThrow();
    // The connection is closed underneath.
    expect(await srv.sys.read(fd, new Uint8Array(8))).toBe(0);
    srv.sys.close(fd);
  });

  it('"starttls": plain first, then startTls() gives an upgraded socket on the same connection', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    const lfd = listen(srv.sys, 25);
    const sock = connect(cli.stack, '10.0.0.1:25', { secureTransport: 'starttls', tls: toyTls() });
    const { fd } = await srv.sys.accept(lfd);
    await srv.sys.write(fd, enc.encode('220 ready\n'));
    const r = sock.readable.getReader();
    expect(dec.decode((await r.read()).value)).toBe('220 ready\n');
    r.releaseLock();
    const secure = sock.startTls();
    expect([sock.upgraded, secure.upgraded]).toEqual([false, true]);
    expect(await readLine(srv.sys, fd)).toBe('HELLO 10.0.0.1\n');
    await srv.sys.write(fd, enc.encode('K'));
    await secure.opened;
    await srv.sys.write(fd, xor(enc.encode('250 secure')));
    srv.sys.shutdown(fd, C.SHUT_WR);
    expect(await readAll(secure.readable)).toBe('250 secure');
    await secure.closed;
    srv.sys.close(fd);
  });

  it('close() on the secure socket closes the connection and resolves closed', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    const lfd = listen(srv.sys, 443);
    const sock = connect(cli.stack, '10.0.0.1:443', { secureTransport: 'on', tls: toyTls() });
    const { fd } = await srv.sys.accept(lfd);
    await readLine(srv.sys, fd);
    await srv.sys.write(fd, enc.encode('K'));
    await sock.opened;
    await sock.close();
    expect(await srv.sys.read(fd, new Uint8Array(8))).toBe(0);
    await expect(sock.readable.getReader().read()).rejects.toThrow(/^SocketError: /);
    srv.sys.close(fd);
  });
});
