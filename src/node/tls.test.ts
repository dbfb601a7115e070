import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import type { Lan } from '../../examples/tcp-net.js';
import { Stack } from '../stack/stack.js';
import { concatBytes } from '../wire/bytes.js';
import { createNet } from './net.js';
import type { NetSocket } from './net.js';
import { TlsHandshakeError, nodeTls } from './tls.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../test/fixtures/tls/${name}`, import.meta.url));
const key = fixture('key.pem');
const cert = fixture('cert.pem');
/** The test certificate names sockstack.test only (no IP SAN), so clients name it. */
const trusted = nodeTls({ ca: cert, servername: 'sockstack.test' });

const enc = new TextEncoder();
const dec = new TextDecoder();

let net: Lan | undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  net?.close();
  net = undefined;
});

type Hosts = [Lan['hosts'][number], Lan['hosts'][number]];

/**
 * A node:tls server fed with connections a sockstack server accepts, the
 * way http.Server is fed in net-http.test.ts. `onPlain` sees the plain
 * socket first (for a STARTTLS-like prologue); by default TLS starts at once.
 */
async function tlsServer(
  host: Hosts[0],
  port: number,
  onSecure: (s: tls.TLSSocket) => void,
  onPlain?: (plain: NetSocket, secure: () => tls.TLSSocket) => void,
): Promise<void> {
  const secureContext = tls.createSecureContext({ key, cert });
  const server = tls.createServer({ key, cert }, onSecure);
  // allowHalfOpen: TLS above decides when to end; a plain socket ending its
  // side on the peer's FIN would cut off replies TLS has not written yet.
  const tcp = createNet(host.stack).createServer({ allowHalfOpen: true }, (sock) => {
    if (onPlain === undefined) server.emit('connection', sock);
    else
      onPlain(sock, () => {
        const s = new tls.TLSSocket(sock, { isServer: true, secureContext });
        s.on('error', () => undefined);
        return s;
      });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '0.0.0.0', resolve));
  cleanups.push(() => tcp.close());
}

async function readAll(r: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = r.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return concatBytes(parts);
}

/** Reads until `text` has arrived (a line protocol's reply), leaving the reader's lock released. */
async function readUntil(r: ReadableStream<Uint8Array>, text: string): Promise<string> {
  const reader = r.getReader();
  let got = '';
  while (!got.includes(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    got += dec.decode(value);
  }
  reader.releaseLock();
  return got;
}

/** Deterministic pseudo-random bytes (xorshift32), so a corrupted byte anywhere shows. */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe('connect() with secureTransport "on" over nodeTls()', () => {
  it('echoes through TLS with the CA trusted, and opened waits for the handshake', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    let serverSawSni: string | false | null | undefined;
    await tlsServer(srv, 443, (s) => {
      serverSawSni = s.servername;
      s.pipe(s);
    });
    const sock = cli.stack.connect('10.0.0.1:443', { secureTransport: 'on', tls: trusted });
    expect(sock.upgraded).toBe(false);
    const info = await sock.opened;
    expect(info.remoteAddress).toBe('10.0.0.1:443');
    const w = sock.writable.getWriter();
    await w.write(enc.encode('hello over TLS'));
    await w.close();
    // The server's pipe ends its side after ours: the readable ends with the echo.
    expect(dec.decode(await readAll(sock.readable))).toBe('hello over TLS');
    expect(serverSawSni).toBe('sockstack.test');
    await sock.closed;
  });

  it('takes the provider from new Stack({ tls }) (the draft call needs no extra option)', async () => {
    net = lan();
    const [srv] = net.hosts as Hosts;
    const client = new Stack({ clock: net.clock, seed: 77, tls: trusted });
    client.addInterface(net.net.attach({ name: 'h3' }), { address: '10.0.0.3/24' });
    cleanups.push(() => client.close());
    await tlsServer(srv, 443, (s) => {
      s.end('hi from TLS');
    });
    const sock = client.connect({ hostname: '10.0.0.1', port: 443 }, { secureTransport: 'on' });
    expect(dec.decode(await readAll(sock.readable))).toBe('hi from TLS');
    await sock.closed;
  });

  it('carries 8 MiB each way intact', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    await tlsServer(srv, 443, (s) => s.pipe(s));
    const data = pattern(8 * 1024 * 1024, 12345);
    const sock = cli.stack.connect('10.0.0.1:443', { secureTransport: 'on', tls: trusted });
    let offset = 0;
    const source = new ReadableStream<Uint8Array>({
      pull: (c) => {
        if (offset >= data.length) c.close();
        else c.enqueue(data.subarray(offset, (offset += 100_000)));
      },
    });
    const sent = source.pipeTo(sock.writable);
    const got = await readAll(sock.readable);
    await sent;
    expect(got.length).toBe(data.length);
    expect(Buffer.compare(got, data)).toBe(0);
    await sock.closed;
  }, 120_000);

  it('rejects opened and closed with a clear error when the certificate is not trusted, with no unhandled rejection', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    await tlsServer(srv, 443, (s) => s.pipe(s));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    cleanups.push(() => process.off('unhandledRejection', onUnhandled));
    // No `ca`: Node's default trust store does not know the self-signed test certificate.
    const sock = cli.stack.connect('10.0.0.1:443', { secureTransport: 'on', tls: nodeTls({ servername: 'sockstack.test' }) });
    const err = await sock.opened.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as TlsHandshakeError).message).toMatch(/^TLS handshake with sockstack\.test:443 failed: self[- ]signed certificate/);
    expect((err as TlsHandshakeError).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    await expect(sock.closed).rejects.toBe(err);
    await expect(sock.readable.getReader().read()).rejects.toBe(err);
    // A name the certificate does not carry fails too (here: the IP address, no servername).
    const byIp = cli.stack.connect('10.0.0.1:443', { secureTransport: 'on', tls: nodeTls({ ca: cert }) });
    await expect(byIp.opened).rejects.toThrow(/TLS handshake with 10\.0\.0\.1:443 failed: .*IP: 10\.0\.0\.1 is not in the cert's list/);
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
  });

  it('a refused connection rejects with ECONNREFUSED, not a TLS error', async () => {
    net = lan();
    const [, cli] = net.hosts as Hosts;
    const sock = cli.stack.connect('10.0.0.1:444', { secureTransport: 'on', tls: trusted });
    await expect(sock.opened).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(sock.closed).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('ends the readable when the peer closes, and closed resolves', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    await tlsServer(srv, 443, (s) => {
      s.write('bye');
      s.end();
    });
    const sock = cli.stack.connect('10.0.0.1:443', { secureTransport: 'on', tls: trusted });
    const reader = sock.readable.getReader();
    const first = await reader.read();
    expect(dec.decode(first.value)).toBe('bye');
    expect((await reader.read()).done).toBe(true);
    // allowHalfOpen false (default): our writing half ended with the peer's.
    await expect(sock.writable.getWriter().write(enc.encode('late'))).rejects.toThrow(/SocketError: /);
    await sock.closed;
  });

  it('allowHalfOpen: closing our writable (close_notify) resolves at once, and the peer may still answer', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    let reply: (() => void) | undefined;
    const serverGotEnd = new Promise<void>((resolve) => {
      void tlsServer(srv, 443, (s) => {
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString()));
        s.on('end', () => {
          reply = () => s.end(`after your end: ${got}`);
          resolve();
        });
      });
    });
    const sock = cli.stack.connect('10.0.0.1:443', { secureTransport: 'on', allowHalfOpen: true, tls: trusted });
    const w = sock.writable.getWriter();
    await w.write(enc.encode('question'));
    // Resolves when our side has finished, not when the peer closes too.
    await w.close();
    await serverGotEnd;
    reply?.();
    expect(dec.decode(await readAll(sock.readable))).toBe('after your end: question');
    await sock.closed;
  });

  it('close() ends the connection and resolves closed', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    const serverEnded = new Promise<void>((resolve) => {
      void tlsServer(srv, 443, (s) => {
        s.resume();
        s.on('end', () => resolve());
      });
    });
    const sock = cli.stack.connect('10.0.0.1:443', { secureTransport: 'on', tls: trusted });
    await sock.opened;
    await sock.close();
    await serverEnded;
  });
});

describe('connect() with secureTransport "starttls"', () => {
  it('talks plain, then startTls() returns a new upgraded Socket over TLS (SMTP-like)', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    await tlsServer(srv, 25, () => undefined, (plain, secure) => {
      plain.write('220 sockstack.test ESMTP\r\n');
      plain.once('data', (d: Buffer) => {
        expect(d.toString()).toBe('STARTTLS\r\n');
        plain.write('220 go ahead\r\n', () => {
          const s = secure();
          s.on('data', (m: Buffer) => s.end(`250 secure echo: ${m.toString()}`));
        });
      });
    });
    const sock = cli.stack.connect('10.0.0.1:25', { secureTransport: 'starttls', tls: trusted });
    expect(await readUntil(sock.readable, '\r\n')).toBe('220 sockstack.test ESMTP\r\n');
    const w = sock.writable.getWriter();
    await w.write(enc.encode('STARTTLS\r\n'));
    w.releaseLock();
    expect(await readUntil(sock.readable, '\r\n')).toBe('220 go ahead\r\n');

    const secure = sock.startTls();
    expect(secure).not.toBe(sock);
    expect(secure.upgraded).toBe(true);
    expect(sock.upgraded).toBe(false);
    // The plain streams now belong to TLS.
    expect(sock.readable.locked).toBe(true);
    expect(sock.writable.locked).toBe(true);
    expect(() => sock.startTls()).toThrow(/^SocketError: .*already/);
    expect(() => secure.startTls()).toThrow(/^SocketError: /);

    expect((await secure.opened).remoteAddress).toBe('10.0.0.1:25');
    const sw = secure.writable.getWriter();
    await sw.write(enc.encode('EHLO me'));
    expect(dec.decode(await readAll(secure.readable))).toBe('250 secure echo: EHLO me');
    await secure.closed;
  });

  it('startTls() refuses while the plain readable is locked', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    await tlsServer(srv, 25, () => undefined, () => undefined);
    const sock = cli.stack.connect('10.0.0.1:25', { secureTransport: 'starttls', tls: trusted });
    await sock.opened;
    const reader = sock.readable.getReader();
    expect(() => sock.startTls()).toThrow(/^SocketError: .*releaseLock/);
    reader.releaseLock();
    await sock.close();
  });

  it('still throws a clear SocketError without a provider', () => {
    net = lan();
    const [, cli] = net.hosts as Hosts;
    expect(() => cli.stack.connect('10.0.0.1:443', { secureTransport: 'on' })).toThrow(/^SocketError: .*TLS provider/);
    expect(() => cli.stack.connect('10.0.0.1:25', { secureTransport: 'starttls' })).toThrow(/^SocketError: .*TLS provider/);
  });
});

describe("Node's own tls and https over the createNet() drop-in", () => {
  it('tls.connect({ socket }) and https.request({ createConnection }) work unchanged', async () => {
    net = lan();
    const [srv, cli] = net.hosts as Hosts;
    const clientNet = createNet(cli.stack);
    const httpsServer = https.createServer({ key, cert }, (req, res) => {
      res.end(`secure ${req.method ?? ''} ${req.url ?? ''}`);
    });
    const tcp = createNet(srv.stack).createServer((sock) => httpsServer.emit('connection', sock));
    await new Promise<void>((resolve) => tcp.listen(443, '0.0.0.0', resolve));
    cleanups.push(() => tcp.close());

    // tls.connect straight over a sockstack socket: a raw HTTP/1.0 request.
    const raw = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ socket: clientNet.connect(443, '10.0.0.1'), ca: cert, servername: 'sockstack.test' }, () => {
        s.end('GET /raw HTTP/1.0\r\n\r\n');
      });
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nsecure GET \/raw$/);

    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        {
          method: 'GET',
          path: '/via-https',
          createConnection: () =>
            tls.connect({ socket: clientNet.connect(443, '10.0.0.1'), ca: cert, servername: 'sockstack.test' }),
        } as https.RequestOptions,
        (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (b += d));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('secure GET /via-https');
    httpsServer.closeAllConnections();
  });
});
