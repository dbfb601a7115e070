/**
 * For the tests that hold buffer and record reuse to "nothing changes on the
 * wire" (frame-recycle.test.ts, rx-record-reuse.test.ts): a link wrapper
 * that records a digest of every frame delivered, and a TCP transfer both
 * ways at once between two stacks.
 */
import type { FrameHandler, Link } from '../link/link.js';
import { PassThroughLink } from '../link/pass-through-link.fixtures.js';
import { constants as C } from '../syscall/constants.js';
import type { Stack } from './stack.js';

/** FNV-1a over the whole frame, and its length. */
export function digest(f: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < f.length; i++) h = Math.imul(h ^ f[i]!, 0x01000193) >>> 0;
  return `${f.length}:${h.toString(16)}`;
}

/** Records a digest of every frame received, passing the receiver's answer (and, when `recycle`, the recycler) through. */
export class TapLink extends PassThroughLink {
  readonly received: string[] = [];
  constructor(
    inner: Link,
    readonly recycle = false,
  ) {
    super(inner);
  }
  override setReceiver(handler: FrameHandler | undefined): void {
    this.inner.setReceiver(handler === undefined ? undefined : (f) => (this.received.push(digest(f)), handler(f)));
  }
  setRecycler(recycle: ((frame: Uint8Array) => void) | undefined): void {
    if (this.recycle) this.inner.setRecycler?.(recycle);
  }
}

/**
 * `data` from a (10.0.0.1) to b (10.0.0.2, port 7) and back at the same
 * time, written in `chunk`-byte writes, each side half-closing when done.
 * Returns what each side read up to end of file.
 */
export async function tcpBothWays(a: Stack, b: Stack, data: Uint8Array, chunk: number): Promise<{ client: Uint8Array; server: Uint8Array }> {
  const lfd = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  b.sys.bind(lfd, { address: '0.0.0.0', port: 7 });
  b.sys.listen(lfd, 4);
  const readAll = async (sys: Stack['sys'], fd: number): Promise<Uint8Array> => {
    const out = new Uint8Array(data.length);
    let got = 0;
    for (;;) {
      const n = await sys.read(fd, out.subarray(got));
      if (n === 0) return out.subarray(0, got);
      got += n;
    }
  };
  const writeAll = async (sys: Stack['sys'], fd: number): Promise<void> => {
    for (let off = 0; off < data.length; off += chunk) {
      const end = Math.min(off + chunk, data.length);
      let at = off;
      while (at < end) at += await sys.write(fd, data.subarray(at, end));
    }
    sys.shutdown(fd, C.SHUT_WR);
  };
  const server = (async () => {
    const { fd } = await b.sys.accept(lfd);
    const [got] = await Promise.all([readAll(b.sys, fd), writeAll(b.sys, fd)]);
    b.sys.close(fd);
    return got;
  })();
  const cfd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  await a.sys.connect(cfd, { address: '10.0.0.2', port: 7 });
  const [client] = await Promise.all([readAll(a.sys, cfd), writeAll(a.sys, cfd)]);
  a.sys.close(cfd);
  const got = await server;
  b.sys.close(lfd);
  return { client, server: got };
}
