// Review (issue 9): TCP receive stores go back to a process-wide pool as soon
// as a reader drains them, and another connection takes the same array next.
// What the Node net drop-in emits ('data' Buffers) and what web connect()
// enqueues (readable chunks) must therefore never alias a store: a user
// keeps those chunks as long as they like. Here the pool poisons every store
// given back (0xA5) while several connections run at once; the chunks the
// application kept, untouched and uncopied, must still hold the data sent.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import type { Lan } from '../../examples/tcp-net.js';
import { connect } from '../api/connect.js';
import { sharedBufferPool } from '../storage/buffer-pool.js';
import { constants as C } from '../syscall/constants.js';
import { createNet } from './net.js';
import { concatBytes as concat } from '../wire/bytes.js';

let net: Lan | undefined;
afterEach(() => {
  net?.close();
  net = undefined;
  vi.restoreAllMocks();
  sharedBufferPool.clear();
});

function poisonPool(): () => number {
  sharedBufferPool.clear();
  const give = sharedBufferPool.give.bind(sharedBufferPool);
  const giveTaken = sharedBufferPool.giveTaken.bind(sharedBufferPool);
  let n = 0;
  vi.spyOn(sharedBufferPool, 'give').mockImplementation((buf: Uint8Array) => {
    buf.fill(0xa5);
    n++;
    give(buf);
  });
  // What rings call to give their stores back.
  vi.spyOn(sharedBufferPool, 'giveTaken').mockImplementation((buf: Uint8Array) => {
    buf.fill(0xa5);
    n++;
    giveTaken(buf);
  });
  return () => n;
}

/** Deterministic payload for connection `k`, without the poison byte. */
function payload(k: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = 0x9e3779b9 ^ k;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = (x >>> 24) % 255;
  }
  return b;
}

/** Server side with plain syscalls: accept `count` connections, send each its payload, close. */
async function serve(sys: Lan['hosts'][number]['sys'], port: number, count: number, size: number): Promise<void> {
  const lfd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.bind(lfd, { address: '0.0.0.0', port });
  sys.listen(lfd, 16);
  const jobs: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const { fd } = await sys.accept(lfd);
    jobs.push(
      (async () => {
        // The first byte says which payload this connection wants.
        const which = new Uint8Array(1);
        await sys.read(fd, which);
        const data = payload(which[0]!, size);
        for (let off = 0; off < data.length; off += 5000) await sys.write(fd, data.subarray(off, off + 5000));
        sys.close(fd);
      })(),
    );
  }
  await Promise.all(jobs);
  sys.close(lfd);
}

const SIZE = 150_000;
const CONNS = 4;

describe('data handed to users never aliases pooled TCP stores', () => {
  it("Node net 'data' Buffers stay intact", async () => {
    const poisoned = poisonPool();
    net = lan({ seed: 21 });
    const [srv, cli] = net.hosts as [Lan['hosts'][number], Lan['hosts'][number]];
    const server = serve(srv.sys, 4000, CONNS, SIZE);
    const netApi = createNet(cli.stack);
    const kept = await Promise.all(
      [...Array(CONNS).keys()].map(
        (k) =>
          new Promise<Buffer[]>((resolve, reject) => {
            const chunks: Buffer[] = [];
            const s = netApi.connect({ host: srv.address, port: 4000 }, () => s.write(Uint8Array.of(k)));
            s.on('data', (c: Buffer) => chunks.push(c));
            s.on('end', () => resolve(chunks));
            s.on('error', reject);
          }),
      ),
    );
    await server;
    // Check only now, after every store went round the pool many times.
    for (let k = 0; k < CONNS; k++) expect(concat(kept[k]!)).toEqual(payload(k, SIZE));
    expect(poisoned()).toBeGreaterThan(CONNS);
  });

  it('web connect() readable chunks stay intact', async () => {
    const poisoned = poisonPool();
    net = lan({ seed: 22 });
    const [srv, cli] = net.hosts as [Lan['hosts'][number], Lan['hosts'][number]];
    const server = serve(srv.sys, 4001, CONNS, SIZE);
    const kept = await Promise.all(
      [...Array(CONNS).keys()].map(async (k) => {
        const sock = connect(cli.stack, `${srv.address}:4001`);
        const w = sock.writable.getWriter();
        await w.write(Uint8Array.of(k));
        w.releaseLock();
        const chunks: Uint8Array[] = [];
        const reader = sock.readable.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
        }
        return chunks;
      }),
    );
    await server;
    for (let k = 0; k < CONNS; k++) expect(concat(kept[k]!)).toEqual(payload(k, SIZE));
    expect(poisoned()).toBeGreaterThan(CONNS);
  });
});
