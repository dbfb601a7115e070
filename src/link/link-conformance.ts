/**
 * One conformance suite that every Link implementation runs: the same cases
 * against the memory link, loopback, the pcap sniffer around another link,
 * and whatever comes next (TUN). It pins down the contract of link.ts that
 * the stack relies on and that the type system cannot express: no
 * synchronous delivery, ownership of delivered frames, MTU enforcement,
 * behaviour after close.
 *
 * It imports no test framework: `linkConformanceCases` returns named async
 * cases that throw on failure, and `defineLinkConformance` registers them
 * with any describe/it pair (vitest, node:test, ...).
 */
import { LinkType } from './link.js';
import type { Link } from './link.js';

/** A link to send on and the link where those frames arrive (the same object for loopback). */
export interface LinkPair {
  readonly sender: Link;
  readonly receiver: Link;
  /** Lets every frame in flight arrive, e.g. `clock.runUntilIdle()`. */
  flush(): void | Promise<void>;
}

/** Builds a fresh pair for each case, so cases cannot leak state into each other. */
export type LinkPairFactory = () => LinkPair | Promise<LinkPair>;

export interface LinkConformanceCase {
  readonly name: string;
  run(): Promise<void>;
}

/** The subset of a test framework that `defineLinkConformance` needs. */
export interface TestRegistrar {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>): void;
}

export class LinkConformanceError extends Error {
  override readonly name = 'LinkConformanceError';
}

function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new LinkConformanceError(message);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytes of link header before the IP packet the MTU counts. */
function headerLen(link: Link): number {
  return link.linkType === LinkType.Ethernet ? 14 : 0;
}

/**
 * A frame carrying an IP-layer payload of `size` bytes filled with a pattern
 * derived from `tag`, so a frame that arrives mangled, truncated or swapped
 * with another is detected. Ethernet frames are addressed to the receiver
 * (so a filtering NIC accepts them) with the local experimental EtherType.
 */
function makeFrame(pair: LinkPair, size: number, tag: number): Uint8Array {
  const h = headerLen(pair.sender);
  const f = new Uint8Array(h + size);
  if (h === 14) {
    const dst = pair.receiver.mac ?? 0xffff_ffff_ffff;
    const src = pair.sender.mac ?? 0x0200_0000_0001;
    for (let i = 0; i < 6; i++) {
      f[i] = Math.floor(dst / 2 ** (8 * (5 - i))) & 0xff;
      f[6 + i] = Math.floor(src / 2 ** (8 * (5 - i))) & 0xff;
    }
    // IEEE 802 local experimental EtherType 1: nobody will try to parse it.
    f[12] = 0x88;
    f[13] = 0xb5;
  }
  for (let i = h; i < f.length; i++) f[i] = (tag * 31 + i * 7) & 0xff;
  return f;
}

interface Recorder {
  readonly frames: Uint8Array[];
  readonly handler: (frame: Uint8Array) => void;
}

function recorder(onFrame?: (frame: Uint8Array) => void): Recorder {
  const frames: Uint8Array[] = [];
  return {
    frames,
    handler: (frame) => {
      frames.push(frame);
      onFrame?.(frame);
    },
  };
}

function cleanup(pair: LinkPair): void {
  pair.sender.close();
  pair.receiver.close();
}

export function linkConformanceCases(factory: LinkPairFactory): LinkConformanceCase[] {
  const cases: LinkConformanceCase[] = [];
  const add = (name: string, body: (pair: LinkPair) => Promise<void>): void => {
    cases.push({
      name,
      run: async () => {
        const pair = await factory();
        try {
          await body(pair);
        } finally {
          cleanup(pair);
        }
      },
    });
  };

  add('describes itself: link type, MTU, hardware address', async (pair) => {
    for (const link of [pair.sender, pair.receiver]) {
      check(link.linkType === LinkType.Ethernet || link.linkType === LinkType.RawIp, `unknown linkType ${link.linkType}`);
      check(Number.isInteger(link.mtu) && link.mtu >= 68, `mtu ${link.mtu} is not a whole number >= 68 (RFC 791)`);
      if (link.linkType === LinkType.Ethernet) {
        const mac = link.mac;
        check(mac !== undefined, 'an Ethernet link must have a MAC address');
        check(Number.isInteger(mac) && mac >= 0 && mac <= 0xffff_ffff_ffff, `MAC ${mac} is not a 48-bit number`);
        check((Math.floor(mac / 2 ** 40) & 1) === 0, 'a link MAC must be unicast');
      }
      if (link.trusted !== undefined) check(typeof link.trusted === 'boolean', 'trusted must be a boolean');
    }
    await Promise.resolve();
  });

  add('delivers frames intact and in order on a clean link', async (pair) => {
    const rx = recorder();
    pair.receiver.setReceiver(rx.handler);
    const sizes = [0, 1, 20, 64, 576, 1000, Math.min(1500, pair.sender.mtu), pair.sender.mtu];
    const expected: Uint8Array[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [i, size] of sizes.entries()) {
        const f = makeFrame(pair, size, round * 100 + i);
        // Kept as a copy: after send the frame belongs to the link.
        expected.push(f.slice());
        pair.sender.send(f);
      }
    }
    await pair.flush();
    check(rx.frames.length === expected.length, `expected ${expected.length} frames, got ${rx.frames.length}`);
    for (const [i, f] of rx.frames.entries()) {
      check(sameBytes(f, expected[i]!), `frame ${i} arrived changed or out of order (length ${f.length}, expected ${expected[i]!.length})`);
    }
  });

  add('never delivers synchronously inside send()', async (pair) => {
    let sending = false;
    let nested = false;
    const rx = recorder(() => {
      if (sending) nested = true;
    });
    pair.receiver.setReceiver(rx.handler);
    sending = true;
    pair.sender.send(makeFrame(pair, 40, 1));
    pair.sender.send(makeFrame(pair, 40, 2));
    sending = false;
    const before = rx.frames.length;
    check(before === 0, 'a frame was delivered inside send()');
    await pair.flush();
    check(!nested, 'a frame was delivered inside send()');
    check(rx.frames.length === 2, `expected 2 frames after flush, got ${rx.frames.length}`);
  });

  add('a frame sent from inside a receiver arrives later, not nested', async (pair) => {
    // An object, not lets: the compiler cannot see the callback change them.
    const nesting = { depth: 0, max: 0, replied: false };
    const rx = recorder(() => {
      nesting.depth++;
      nesting.max = Math.max(nesting.max, nesting.depth);
      if (!nesting.replied) {
        nesting.replied = true;
        pair.sender.send(makeFrame(pair, 30, 9));
      }
      nesting.depth--;
    });
    pair.receiver.setReceiver(rx.handler);
    pair.sender.send(makeFrame(pair, 30, 8));
    await pair.flush();
    check(rx.frames.length === 2, `expected 2 frames, got ${rx.frames.length}`);
    check(nesting.max === 1, 'a receiver was re-entered from a send inside it');
  });

  add('drops frames sent after close, and close is idempotent', async (pair) => {
    const rx = recorder();
    pair.receiver.setReceiver(rx.handler);
    pair.sender.close();
    pair.sender.close();
    pair.sender.send(makeFrame(pair, 50, 3));
    await pair.flush();
    check(rx.frames.length === 0, `a frame sent after close arrived (${rx.frames.length})`);
  });

  add('setReceiver replaces the receiver; undefined detaches it', async (pair) => {
    const first = recorder();
    const second = recorder();
    pair.receiver.setReceiver(first.handler);
    pair.receiver.setReceiver(second.handler);
    pair.sender.send(makeFrame(pair, 50, 4));
    await pair.flush();
    check(first.frames.length === 0, 'the replaced receiver still got a frame');
    check(second.frames.length === 1, `the new receiver got ${second.frames.length} frames, expected 1`);
    pair.receiver.setReceiver(undefined);
    pair.sender.send(makeFrame(pair, 50, 5));
    await pair.flush();
    check(second.frames.length === 1, 'a detached receiver still got a frame');
  });

  add('a delivered frame belongs to the receiver: changing it affects no other frame', async (pair) => {
    const expected: Uint8Array[] = [];
    let intact = true;
    const rx = recorder((frame) => {
      if (!sameBytes(frame, expected[rx.frames.length - 1]!)) intact = false;
      // Receivers may reuse delivered buffers, e.g. to build a reply in place.
      frame.fill(0xe0 + rx.frames.length);
    });
    pair.receiver.setReceiver(rx.handler);
    for (let i = 0; i < 4; i++) {
      const f = makeFrame(pair, 100, 20 + i);
      expected.push(f.slice());
      pair.sender.send(f);
    }
    await pair.flush();
    check(rx.frames.length === 4, `expected 4 frames, got ${rx.frames.length}`);
    check(intact, 'changing one delivered frame changed another');
    // And the link must not reuse a delivered buffer for later frames.
    for (const [i, f] of rx.frames.entries()) {
      check(f.every((b) => b === 0xe1 + i), `delivered frame ${i} was overwritten by the link after delivery`);
    }
  });

  add('enforces the MTU: a packet of mtu bytes passes, mtu + 1 is dropped', async (pair) => {
    const rx = recorder();
    pair.receiver.setReceiver(rx.handler);
    const mtu = pair.sender.mtu;
    pair.sender.send(makeFrame(pair, mtu + 1, 6));
    const fits = makeFrame(pair, mtu, 7);
    const fitsCopy = fits.slice();
    pair.sender.send(fits);
    pair.sender.send(makeFrame(pair, mtu + 1000, 8));
    await pair.flush();
    check(rx.frames.length === 1, `expected only the frame that fits, got ${rx.frames.length} frames`);
    check(sameBytes(rx.frames[0]!, fitsCopy), 'the frame of exactly mtu bytes arrived changed');
  });

  return cases;
}

/** Registers the suite as `describe(name, ...)` with one `it` per case. */
export function defineLinkConformance(name: string, factory: LinkPairFactory, t: TestRegistrar): void {
  t.describe(`${name}: Link conformance`, () => {
    for (const c of linkConformanceCases(factory)) t.it(c.name, () => c.run());
  });
}
