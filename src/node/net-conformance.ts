/**
 * One suite of `net` behaviours, run against Node's real `net` on loopback
 * and against sockstack's drop-in (net.test.ts): same cases, same
 * assertions, different module. A case that passes on Node and fails on
 * sockstack is a drop-in bug.
 */
import { describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** The part of a `net` module the suite uses (Node's and createNet()'s both fit). */
export interface NetLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- both Node's and our overloads must fit
  createServer(...args: any[]): ServerLike;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  connect(...args: any[]): SocketLike;
  isIP(s: string): number;
  isIPv4(s: string): boolean;
}

export type SocketLike = Duplex & {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly connecting: boolean;
  readonly pending: boolean;
  readonly readyState: string;
  address(): unknown;
  setTimeout(ms: number, cb?: () => void): unknown;
  setNoDelay(v?: boolean): unknown;
  setKeepAlive(enable?: boolean, delay?: number): unknown;
  resetAndDestroy(): unknown;
};

export interface ServerLike {
  listen(port: number, host: string, cb?: () => void): unknown;
  close(cb?: (err?: Error) => void): unknown;
  address(): unknown;
  getConnections(cb: (err: Error | null, n: number) => void): unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
  once(event: string, fn: (...args: never[]) => void): unknown;
  maxConnections?: number | undefined;
}

export interface NetSubject {
  /** The module clients use. */
  readonly client: NetLike;
  /** The module servers use (another host in sockstack). */
  readonly server: NetLike;
  /** The address the server listens on and clients dial. */
  readonly host: string;
  /** A port nobody listens on. */
  readonly closedPort: number;
  readonly close?: () => void;
}

function once<T extends unknown[]>(em: { once(e: string, f: (...a: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => {
    em.once(event, (...a: T) => resolve(a));
  });
}

async function startServer(subject: NetSubject, onConn: (s: SocketLike) => void, opts: object = {}): Promise<{ server: ServerLike; port: number }> {
  const server = subject.server.createServer(opts, onConn);
  await new Promise<void>((resolve) => {
    server.listen(0, subject.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port };
}

function collect(s: SocketLike): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve, reject) => {
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

/** Registers the suite for one subject. */
export function netConformance(name: string, make: () => NetSubject): void {
  describe(`net conformance: ${name}`, () => {
    const withSubject = (fn: (s: NetSubject) => Promise<void>) => async () => {
      const s = make();
      try {
        await fn(s);
      } finally {
        s.close?.();
      }
    };

    it('isIP / isIPv4', withSubject((s) => {
      expect(s.client.isIP('10.0.0.1')).toBe(4);
      expect(s.client.isIP('::1')).toBe(6);
      expect(s.client.isIP('10.0.0.256')).toBe(0);
      expect(s.client.isIP('example.com')).toBe(0);
      expect(s.client.isIPv4('127.0.0.1')).toBe(true);
      expect(s.client.isIPv4('::ffff:1.2.3.4')).toBe(false);
      return Promise.resolve();
    }));

    it('connects, echoes, and reports addresses and byte counts', withSubject(async (s) => {
      const { server, port } = await startServer(s, (c) => c.pipe(c));
      const c = s.client.connect(port, s.host);
      expect(c.connecting).toBe(true);
      expect(c.pending).toBe(true);
      expect(c.readyState).toBe('opening');
      await once(c, 'connect');
      expect(c.connecting).toBe(false);
      expect(c.readyState).toBe('open');
      expect(c.remoteAddress).toBe(s.host);
      expect(c.remotePort).toBe(port);
      expect(typeof c.localPort).toBe('number');
      expect(c.address()).toMatchObject({ family: 'IPv4', port: c.localPort });
      const got = collect(c);
      c.end('hello world');
      expect((await got).toString()).toBe('hello world');
      expect(c.bytesWritten).toBe(11);
      expect(c.bytesRead).toBe(11);
      await once(c, 'close');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }));

    it('a refused connect emits a Node-style error, then close(true)', withSubject(async (s) => {
      const c = s.client.connect(s.closedPort, s.host);
      const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException & { address?: string; port?: number }];
      expect(err.code).toBe('ECONNREFUSED');
      expect(err.syscall).toBe('connect');
      expect(err.address).toBe(s.host);
      expect(err.port).toBe(s.closedPort);
      const [hadError] = (await once(c, 'close')) as [boolean];
      expect(hadError).toBe(true);
    }));

    it('allowHalfOpen: the server keeps writing after the client FIN', withSubject(async (s) => {
      const { server, port } = await startServer(
        s,
        (c) => {
          const parts: Buffer[] = [];
          c.on('data', (d: Buffer) => parts.push(d));
          c.on('end', () => {
            c.end(`got ${Buffer.concat(parts).toString()}`);
          });
        },
        { allowHalfOpen: true },
      );
      const c = s.client.connect(port, s.host);
      const got = collect(c);
      c.end('question');
      expect((await got).toString()).toBe('got question');
      await once(c, 'close');
      server.close();
    }));

    it('without allowHalfOpen a peer FIN ends our side too', withSubject(async (s) => {
      let serverSide: SocketLike | undefined;
      const closed = new Promise<void>((resolve) => {
        void startServer(s, (c) => {
          serverSide = c;
          c.resume();
          c.on('close', () => resolve());
        }).then(({ server, port }) => {
          const c = s.client.connect(port, s.host);
          c.on('connect', () => c.end());
          c.resume();
          c.on('close', () => server.close());
        });
      });
      await closed;
      expect(serverSide?.destroyed).toBe(true);
    }));

    it('write() returns false under backpressure and drain follows', withSubject(async (s) => {
      let serverSide: SocketLike | undefined;
      const { server, port } = await startServer(s, (c) => {
        serverSide = c;
        c.pause();
      });
      const c = s.client.connect(port, s.host);
      await once(c, 'connect');
      const chunk = Buffer.alloc(64 * 1024, 7);
      let writes = 0;
      while (c.write(chunk)) {
        writes++;
        if (writes > 4096) throw new Error('write() never reported backpressure');
      }
      // The peer is not reading: the buffered bytes stay bounded.
      expect(writes * chunk.length).toBeLessThan(64 * 1024 * 1024);
      const total = (writes + 1) * chunk.length;
      const drained = once(c, 'drain');
      while (serverSide === undefined) await new Promise((r) => setImmediate(r));
      const got = collect(serverSide);
      serverSide.resume();
      await drained;
      c.end();
      expect((await got).length).toBe(total);
      server.close();
    }));

    it('destroy() mid-write resets: the peer sees ECONNRESET or an end', withSubject(async (s) => {
      const seen = new Promise<string>((resolve) => {
        void startServer(s, (c) => {
          c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          c.on('end', () => resolve('end'));
          c.resume();
          // Accepted: now let the client reset in the middle of a large write.
          c.write('go');
        }).then(({ server, port }) => {
          const c = s.client.connect(port, s.host);
          c.once('data', () => {
            c.write(Buffer.alloc(256 * 1024));
            c.resetAndDestroy();
          });
          c.on('close', () => server.close());
        });
      });
      // Node itself may flush what was queued and FIN before the reset lands.
      expect(['ECONNRESET', 'end']).toContain(await seen);
    }));

    it('setTimeout emits timeout on an idle socket and does not close it', withSubject(async (s) => {
      const { server, port } = await startServer(s, (c) => c.resume());
      const c = s.client.connect(port, s.host);
      await once(c, 'connect');
      let fired = 0;
      c.setTimeout(50, () => fired++);
      await once(c, 'timeout');
      expect(fired).toBe(1);
      expect(c.destroyed).toBe(false);
      c.setTimeout(0);
      c.destroy();
      server.close();
    }));

    it('server.close() waits for live connections; getConnections counts them', withSubject(async (s) => {
      const conns: SocketLike[] = [];
      const { server, port } = await startServer(s, (c) => {
        conns.push(c);
        c.resume();
      });
      const c = s.client.connect(port, s.host);
      c.resume();
      await once(c, 'connect');
      while (conns.length === 0) await new Promise((r) => setImmediate(r));
      const n = await new Promise<number>((resolve) => server.getConnections((_e, k) => resolve(k)));
      expect(n).toBe(1);
      let serverClosed = false;
      const closed = new Promise<void>((resolve) => server.close(() => {
        serverClosed = true;
        resolve();
      }));
      expect(server.address()).toBe(null);
      await new Promise((r) => setTimeout(r, 20));
      expect(serverClosed).toBe(false);
      // The live connection still works after close().
      const got = collect(c);
      conns[0]?.end('bye');
      expect((await got).toString()).toBe('bye');
      await closed;
      expect(serverClosed).toBe(true);
    }));

    it('a second listen on a used port emits EADDRINUSE', withSubject(async (s) => {
      const { server, port } = await startServer(s, () => undefined);
      const other = s.server.createServer();
      other.listen(port, s.host);
      const [err] = (await once(other, 'error')) as unknown as [NodeJS.ErrnoException];
      expect(err.code).toBe('EADDRINUSE');
      server.close();
    }));
  });
}
