import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import type { Host } from '../../examples/tcp-net.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';
import { concatBytes } from '../wire/bytes.js';
import { bytes } from '../wire/bytes.fixtures.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Writes `data` in uneven chunks, then SHUT_WR; reads everything the peer sends until EOF. */
async function exchange(h: Host, fd: number, data: Uint8Array): Promise<Uint8Array> {
  const writer = (async () => {
    let at = 0;
    let step = 1000;
    while (at < data.length) {
      const n = await h.sys.write(fd, data.subarray(at, Math.min(data.length, at + step)));
      at += n;
      step = (step * 7) % 65_521 + 1;
    }
    h.sys.shutdown(fd, C.SHUT_WR);
  })();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(30_000);
  for (;;) {
    const n = await h.sys.read(fd, buf);
    if (n === 0) break;
    chunks.push(buf.slice(0, n));
    total += n;
  }
  await writer;
  return concatBytes(chunks, total);
}

const MiB = 1 << 20;

describe('1 MiB each way over a lossy, reordering, duplicating network', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: both streams arrive intact (SHA-256) and both sides close cleanly`, async () => {
      const net = lan({
        seed,
        impairments: {
          latency: Duration.fromMillis(5),
          jitter: Duration.fromMillis(2),
          loss: 0.02,
          duplicate: 0.01,
          reorder: 0.02,
          reorderDelay: Duration.fromMillis(8),
          // Corruption makes the link untrusted: checksums are computed and verified.
          corrupt: 0.005,
        },
      });
      const [a, b] = [net.hosts[0]!, net.hosts[1]!];
      const up = bytes(MiB, seed * 2 + 1);
      const down = bytes(MiB, seed * 2 + 2);
      const lfd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      a.sys.bind(lfd, { address: '0.0.0.0', port: 9999 });
      a.sys.listen(lfd, 1);
      const serverSide = (async () => {
        const { fd } = await a.sys.accept(lfd);
        const got = await exchange(a, fd, down);
        a.sys.close(fd);
        return got;
      })();
      const clientSide = (async () => {
        const fd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
        await b.sys.connect(fd, { address: '10.0.0.1', port: 9999 });
        const got = await exchange(b, fd, up);
        b.sys.close(fd);
        return got;
      })();
      const [atServer, atClient] = await Promise.all([serverSide, clientSide]);
      expect(atServer.length).toBe(MiB);
      expect(atClient.length).toBe(MiB);
      expect(sha256(atServer)).toBe(sha256(up));
      expect(sha256(atClient)).toBe(sha256(down));
      // The impairments did happen, and TCP repaired them.
      expect(net.net.counters.get('dropped-loss')).toBeGreaterThan(0);
      expect(a.stack.stats.get('tcp.in-csum-errors') + b.stack.stats.get('tcp.in-csum-errors') + a.stack.stats.get('ip.drop.bad-checksum') + b.stack.stats.get('ip.drop.bad-checksum')).toBeGreaterThan(0);
      expect(a.stack.stats.get('tcp.retrans-segs') + b.stack.stats.get('tcp.retrans-segs')).toBeGreaterThan(0);
      // Clean closes: no connection was reset, and every one is gone after TIME-WAIT. (A
      // duplicated segment arriving after its connection is gone still draws a RST, as it must.)
      await net.clock.sleep(Duration.fromSecs(120));
      expect(a.stack.stats.get('tcp.estab-resets') + b.stack.stats.get('tcp.estab-resets')).toBe(0);
      expect(a.stack.stats.get('tcp.attempt-fails') + b.stack.stats.get('tcp.attempt-fails')).toBe(0);
      expect(a.tcp.connectionCount + b.tcp.connectionCount).toBe(0);
      // Every wake-up of a connection found work to do (the deadline heap never spun).
      expect(a.stack.stats.get('tcp.poll-spins') + b.stack.stats.get('tcp.poll-spins')).toBe(0);
      a.sys.close(lfd);
      net.close();
    }, 60_000);
  }
});
