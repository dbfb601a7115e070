import { describe, expect, it } from 'vitest';
import { Duration } from '../time/duration.js';
import { ManualClock } from '../time/manual-clock.js';
import { concatBytes, fromHex, toHex } from '../wire/bytes.js';
import type { FrameHandler, Link } from './link.js';
import { LinkType } from './link.js';
import { PcapWriter, readPcap } from './pcap.js';
import { PcapLink } from './pcap-link.js';

/** One end of an in-test wire: send() hands the frame straight to the peer's receiver. */
class FakeLink implements Link {
  readonly linkType: LinkType;
  readonly mtu: number;
  readonly mac?: number;
  readonly trusted?: boolean;
  peer: FakeLink | undefined;
  receiver: FrameHandler | undefined;
  closed = false;
  sent: Uint8Array[] = [];

  constructor(linkType: LinkType, mtu: number, mac?: number) {
    this.linkType = linkType;
    this.mtu = mtu;
    if (mac !== undefined) this.mac = mac;
    this.trusted = true;
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.sent.push(frame);
    this.peer?.receiver?.(frame);
  }

  setReceiver(handler: FrameHandler | undefined): void {
    this.receiver = handler;
  }

  close(): void {
    this.closed = true;
  }
}

function wire(linkType: LinkType, mtu = 1500): [FakeLink, FakeLink] {
  const a = new FakeLink(linkType, mtu, 0x020000000001);
  const b = new FakeLink(linkType, mtu, 0x020000000002);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

function capture(linkType: LinkType): { writer: PcapWriter; bytes: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  const writer = new PcapWriter((c) => chunks.push(c), { linkType });
  return {
    writer,
    bytes: () => concatBytes(chunks),
  };
}

describe('PcapLink', () => {
  it('looks exactly like the link it wraps', () => {
    const [a] = wire(LinkType.Ethernet, 9000);
    const link = new PcapLink(a, { writer: capture(LinkType.Ethernet).writer, clock: new ManualClock() });
    expect(link.linkType).toBe(LinkType.Ethernet);
    expect(link.mtu).toBe(9000);
    expect(link.mac).toBe(0x020000000001);
    expect(link.trusted).toBe(true);
    expect(link.inner).toBe(a);
    const raw = new FakeLink(LinkType.RawIp, 1280);
    const rawLink = new PcapLink(raw, { writer: capture(LinkType.RawIp).writer, clock: new ManualClock() });
    expect(rawLink.mac).toBeUndefined();
    expect(rawLink.mtu).toBe(1280);
  });

  it('refuses a writer for another link type', () => {
    const [a] = wire(LinkType.Ethernet);
    expect(() => new PcapLink(a, { writer: capture(LinkType.RawIp).writer, clock: new ManualClock() })).toThrow(
      RangeError,
    );
  });

  it('records frames in both directions with clock timestamps and passes them on unchanged', () => {
    const clock = new ManualClock();
    const [a, b] = wire(LinkType.RawIp);
    const cap = capture(LinkType.RawIp);
    const link = new PcapLink(a, { writer: cap.writer, clock });
    const received: string[] = [];
    link.setReceiver((f) => received.push(toHex(f)));
    const peerReceived: string[] = [];
    b.setReceiver((f) => peerReceived.push(toHex(f)));

    clock.advance(Duration.fromMillis(1));
    const out = fromHex('4500aaaa');
    link.send(out);
    clock.advance(Duration.fromMillis(2));
    b.send(fromHex('4500bbbb'));
    clock.advance(Duration.fromMicros(7));
    link.send(fromHex('4500cccc'));

    expect(peerReceived).toEqual(['4500aaaa', '4500cccc']);
    expect(received).toEqual(['4500bbbb']);
    expect(a.sent[0]).toBe(out); // the very same buffer: no copy on the data path
    expect(cap.writer.frames).toBe(3);

    const r = readPcap(cap.bytes());
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.header.linkType).toBe(LinkType.RawIp);
    expect(r.value.records.map((x) => [x.at, toHex(x.data)])).toEqual([
      [1000, '4500aaaa'],
      [3000, '4500bbbb'],
      [3007, '4500cccc'],
    ]);
  });

  it('records a sent frame before the peer can change it', () => {
    const clock = new ManualClock();
    const [a, b] = wire(LinkType.Ethernet);
    const cap = capture(LinkType.Ethernet);
    const link = new PcapLink(a, { writer: cap.writer, clock });
    // A receiver that scribbles over the frame it now owns.
    b.setReceiver((f) => f.fill(0xee));
    link.send(fromHex('0102030405'));
    const r = readPcap(cap.bytes());
    expect(r.ok && toHex(r.value.records[0]!.data)).toBe('0102030405');
  });

  it('stops recording when the receiver is removed or the link closed', () => {
    const clock = new ManualClock();
    const [a, b] = wire(LinkType.Ethernet);
    const cap = capture(LinkType.Ethernet);
    const link = new PcapLink(a, { writer: cap.writer, clock });
    link.setReceiver(() => undefined);
    b.send(fromHex('01'));
    link.setReceiver(undefined);
    expect(a.receiver).toBeUndefined();
    b.send(fromHex('02')); // nobody listening: not delivered, not recorded
    link.close();
    expect(a.closed).toBe(true);
    link.send(fromHex('03')); // dropped by the closed link
    expect(cap.writer.frames).toBe(1);
  });
});
