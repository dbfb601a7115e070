// `sockstack serve` without root: argument parsing, and the HTTP and echo
// services on a virtual LAN (two stacks on a MemoryNetwork), a client
// written with stack.sys speaking raw HTTP/1.1 to them.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import type { Lan } from '../../examples/tcp-net.js';
import { constants as C } from '../syscall/constants.js';
import type { Syscalls } from '../syscall/syscalls.js';
import { parseRequestHead, serveEcho, serveHttp, writeAll } from './serve-services.js';
import type { Service } from './serve-services.js';
import { parseServeArgs, UsageError } from './serve.js';

describe('parseServeArgs', () => {
  it('reads every option, both --flag value and --flag=value', () => {
    expect(parseServeArgs(['--tun', 'sock0', '--address=10.0.0.2/24', '--http', '80', '--echo=7', '--pcap', 'x.pcap', '--root', '/srv', '--mtu', '1280', '--gateway', '10.0.0.1'])).toEqual({
      tun: 'sock0',
      address: '10.0.0.2/24',
      http: 80,
      echo: 7,
      pcap: 'x.pcap',
      root: '/srv',
      mtu: 1280,
      gateway: '10.0.0.1',
    });
    expect(parseServeArgs(['--tun', 't', '--address', '1.2.3.4/8', '--echo', '7'])).toEqual({ tun: 't', address: '1.2.3.4/8', echo: 7, root: '.' });
  });

  it.each([
    [[], /--tun NAME is required/],
    [['--tun', 't'], /--address A\/N is required/],
    [['--tun', 't', '--address', '10.0.0.2'], /needs A\.B\.C\.D\/N/],
    [['--tun', 't', '--address', '10.0.0.2/24'], /nothing to serve/],
    [['--tun', 't', '--address', '10.0.0.2/24', '--http', '0'], /port number 1\.\.65535/],
    [['--tun', 't', '--address', '10.0.0.2/24', '--http', '8o'], /port number/],
    [['--tun', 't', '--address', '10.0.0.2/24', '--http'], /--http needs a value/],
    [['--tun', 't', '--address', '10.0.0.2/24', '--http', '80', '--what'], /unknown argument '--what'/],
    [['--tun', 't', '--address', '10.0.0.2/24', '--http', '80', '--mtu', '20'], /--mtu needs 68\.\.65535/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseServeArgs(argv)).toThrow(UsageError);
    expect(() => parseServeArgs(argv)).toThrow(message);
  });
});

describe('parseRequestHead', () => {
  it('request line and headers; names lower-cased, repeats joined', () => {
    const r = parseRequestHead('GET /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nAccept: a\r\naccept:  b \r\nX-Empty:');
    expect(r).toMatchObject({ method: 'GET', target: '/a%20b?x=1', version: 'HTTP/1.1' });
    expect([...r!.headers]).toEqual([['host', 'h'], ['accept', 'a, b'], ['x-empty', '']]);
  });

  it.each(['GET /\r\nHost: h', 'GET  / HTTP/1.1', 'GET / HTTP/1.1\r\n folded', 'GET / HTTP/1.1\r\nBad Header: x', 'G@T / HTTP/1.1'])('%j is malformed', (head) => {
    expect(parseRequestHead(head)).toBeUndefined();
  });
});

const dec = new TextDecoder();

/** Reads until EOF (or until `until` says the bytes so far are complete). */
async function readAll(sys: Syscalls, fd: number, until?: (s: string) => boolean): Promise<string> {
  const buf = new Uint8Array(65536);
  let s = '';
  for (;;) {
    if (until?.(s) === true) return s;
    const n = await sys.read(fd, buf);
    if (n === 0) return s;
    s += dec.decode(buf.subarray(0, n), { stream: true });
  }
}

describe('the services on a virtual LAN', () => {
  const root = mkdtempSync(join(tmpdir(), 'sockstack-serve-unit-'));
  const outside = mkdtempSync(join(tmpdir(), 'sockstack-outside-'));
  const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  let net: Lan;
  let http: Service;
  let echo: Service;
  let log: string[];

  beforeAll(() => {
    writeFileSync(join(root, 'hello.txt'), 'hello\n');
    writeFileSync(join(root, 'big.bin'), big);
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'index.html'), '<p>sub</p>');
    writeFileSync(join(outside, 'secret'), 'secret');
    symlinkSync(join(outside, 'secret'), join(root, 'link-out'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  beforeEach(() => {
    net = lan({ seed: 5 });
    log = [];
    http = serveHttp(net.hosts[0]!.sys, { port: 80, root, log: (l) => log.push(l), chunkSize: 10_000 });
    echo = serveEcho(net.hosts[0]!.sys, { port: 7, log: (l) => log.push(l) });
  });
  afterEach(() => {
    http.close();
    echo.close();
    net.close();
  });

  async function exchange(request: string, until?: (s: string) => boolean): Promise<string> {
    const sys = net.hosts[1]!.sys;
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    try {
      await sys.connect(fd, { address: '10.0.0.1', port: 80 });
      await writeAll(sys, fd, new TextEncoder().encode(request));
      return await readAll(sys, fd, until);
    } finally {
      sys.close(fd);
    }
  }

  it('GET a file: 200, Content-Length, the bytes; Connection: close ends the connection', async () => {
    const r = await exchange('GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r).toContain('Content-Length: 6\r\n');
    expect(r).toContain('Content-Type: text/plain; charset=utf-8\r\n');
    expect(r).toContain('Connection: close\r\n');
    expect(r.endsWith('\r\n\r\nhello\n')).toBe(true);
    expect(log).toContain('http: 10.0.0.2:' + /10\.0\.0\.2:(\d+)/.exec(log.join('\n'))![1]! + ' GET /hello.txt 200 6');
  });

  it('a 300000-byte file in 10000-byte chunks arrives whole', async () => {
    const sys = net.hosts[1]!.sys;
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await sys.connect(fd, { address: '10.0.0.1', port: 80 });
    await writeAll(sys, fd, new TextEncoder().encode('GET /big.bin HTTP/1.0\r\n\r\n'));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (let n; (n = await sys.read(fd, buf)) > 0; ) chunks.push(buf.slice(0, n));
    sys.close(fd);
    const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let off = 0;
    for (const c of chunks) all.set(c, (off += c.length) - c.length);
    const text = dec.decode(all.subarray(0, 200));
    const headLen = text.indexOf('\r\n\r\n') + 4;
    expect(text).toContain('Content-Length: 300000\r\n');
    expect(text).toContain('Content-Type: application/octet-stream\r\n');
    expect(all.length - headLen).toBe(300_000);
    expect(all.subarray(headLen)).toEqual(big);
  });

  it('keep-alive: two pipelined requests on one connection, then HTTP/1.0 closes', async () => {
    const r = await exchange('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /sub/ HTTP/1.0\r\n\r\n');
    const responses = r.split(/(?=HTTP\/1\.1 )/);
    expect(responses).toHaveLength(3);
    expect(responses[0]).toMatch(/200 OK[\s\S]*Connection: keep-alive\r\n\r\nhello\n$/);
    expect(responses[1]).toMatch(/200 OK[\s\S]*Content-Length: 6\r\n[\s\S]*\r\n\r\n$/); // HEAD: no body
    expect(responses[2]).toMatch(/200 OK[\s\S]*Content-Type: text\/html[\s\S]*Connection: close\r\n\r\n<p>sub<\/p>$/);
  });

  it.each([
    ['GET /nope HTTP/1.1', '404 Not Found'],
    ['GET /sub HTTP/1.1', '404 Not Found'], // a directory
    ['GET /../etc/passwd HTTP/1.1', '404 Not Found'],
    ['GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1', '404 Not Found'],
    ['GET /link-out HTTP/1.1', '404 Not Found'], // a symlink leading out of the root
    ['GET /%zz HTTP/1.1', '404 Not Found'],
    ['GET http://x/hello.txt HTTP/1.1', '404 Not Found'],
    ['POST /hello.txt HTTP/1.1', '405 Method Not Allowed'],
    ['DELETE /hello.txt HTTP/1.1', '405 Method Not Allowed'],
    ['GET /hello.txt HTTP/2.0', '505 HTTP Version Not Supported'],
    ['NONSENSE', '400 Bad Request'],
  ])('%s -> %s', async (line, status) => {
    const r = await exchange(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(r).toMatch(new RegExp(`^HTTP/1\\.1 ${status}\\r\\n`));
    if (status.startsWith('405')) expect(r).toContain('Allow: GET, HEAD\r\n');
    expect(r).not.toContain('secret');
  });

  it('an endless head gets 431', async () => {
    const r = await exchange(`GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}`);
    expect(r).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('echo over TCP: everything back, then EOF after our half-close', async () => {
    const sys = net.hosts[1]!.sys;
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await sys.connect(fd, { address: '10.0.0.1', port: 7 });
    const data = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
    const reading = (async () => {
      const got: number[] = [];
      const buf = new Uint8Array(8192);
      for (let n; (n = await sys.read(fd, buf)) > 0; ) got.push(...buf.subarray(0, n));
      return new Uint8Array(got);
    })();
    await writeAll(sys, fd, data);
    sys.shutdown(fd, C.SHUT_WR);
    expect(await reading).toEqual(data);
    sys.close(fd);
  });

  it('echo over UDP: the datagram back to its sender, fragmented ones too', async () => {
    const sys = net.hosts[1]!.sys;
    const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
    const buf = new Uint8Array(65535);
    for (const n of [0, 5, 20_000]) {
      const data = new Uint8Array(n).map((_, i) => i & 0xff);
      await sys.sendto(fd, data, 0, { address: '10.0.0.1', port: 7 });
      const r = await sys.recvfrom(fd, buf);
      expect(r.address).toMatchObject({ address: '10.0.0.1', port: 7 });
      expect(buf.subarray(0, r.bytesRead)).toEqual(data);
    }
    sys.close(fd);
  });

  it('close() stops the listener: a new connection is refused', async () => {
    http.close();
    const sys = net.hosts[1]!.sys;
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await expect(sys.connect(fd, { address: '10.0.0.1', port: 80 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    sys.close(fd);
  });
});
