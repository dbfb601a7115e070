// The Link conformance suite over real TUN devices: two TUN links whose
// devices sit in one network namespace with IPv4 forwarding on, so the Linux
// kernel routes what one link writes to the other link's reader.
//
// The kernel only carries IP packets, and forwarding rewrites the TTL and the
// header checksum, while the suite sends arbitrary bytes (even empty frames)
// and expects them back byte for byte. So each side is wrapped in a thin UDP
// tunnel: send() puts the frame into an IPv4/UDP packet for the TUN link, the
// receiving side unwraps it. What the suite checks of the TUN link itself
// survives the wrapping: asynchronous delivery, order, one owned buffer per
// delivered packet, the MTU check of TunLink.send (the tunnel's MTU is the
// device's less 28, so the suite's mtu + 1 frame is a device-MTU + 1 packet
// that TunLink must drop), and close().
import { afterAll, beforeAll, it } from 'vitest';
import { LinkType } from '../src/link/link.js';
import type { FrameHandler, Link } from '../src/link/link.js';
import { defineLinkConformance } from '../src/link/link-conformance.js';
import type { LinkPair } from '../src/link/link-conformance.js';
import { openTun } from '../src/link/tun/index.js';
import type { TunLink } from '../src/link/tun/index.js';
import type { Ipv4Address } from '../src/wire/address.js';
import { ipv4 } from '../src/wire/address.js';
import { emitIpv4, IpProtocol, parseIpv4 } from '../src/wire/ipv4.js';
import { emitUdp, parseUdp } from '../src/wire/udp.js';
import { canUseNetns, createNetns, describeWithNetns, uniqueTunName } from './helpers/netns.js';
import type { Netns } from './helpers/netns.js';

const SUITE_PORT = 7001;
const BARRIER_PORT = 7002;
const HEADERS = 20 + 8;

/** Our side of each TUN device: the sending link's address, and the address the kernel forwards to. */
const A_NET = { linux: '10.97.1.1/24', ours: ipv4('10.97.1.2') };
const B_NET = { linux: '10.97.2.1/24', ours: ipv4('10.97.2.2') };

function udpPacket(src: Ipv4Address, dst: Ipv4Address, port: number, payload: Uint8Array, id: number): Uint8Array {
  const udp = new Uint8Array(8 + payload.length);
  emitUdp({ srcPort: port, dstPort: port, payload }, udp, { src, dst });
  const pkt = new Uint8Array(HEADERS + payload.length);
  emitIpv4(
    {
      src, dst, protocol: IpProtocol.Udp, ttl: 64, dscp: 0, ecn: 0, identification: id & 0xffff,
      dontFragment: true, moreFragments: false, fragmentOffset: 0, options: new Uint8Array(0), payload: udp,
    },
    pkt,
  );
  return pkt;
}

/** A UDP tunnel endpoint over a TUN link (see the top of the file). */
class UdpTunnel implements Link {
  readonly linkType = LinkType.RawIp;
  readonly mtu: number;
  #id = 0;
  #closed = false;
  #barrierWaiters = new Map<number, () => void>();
  #receiver: FrameHandler | undefined;

  constructor(
    readonly tun: TunLink,
    readonly src: Ipv4Address,
    readonly dst: Ipv4Address,
  ) {
    this.mtu = tun.mtu - HEADERS;
    tun.setReceiver((pkt) => this.#onPacket(pkt));
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    // No MTU check here on purpose: an oversized frame makes an oversized packet for TunLink.send to drop.
    this.tun.send(udpPacket(this.src, this.dst, SUITE_PORT, frame, this.#id++));
  }

  setReceiver(handler: FrameHandler | undefined): void {
    this.#receiver = handler;
  }

  close(): void {
    this.#closed = true;
    this.tun.close();
  }

  /** Sends a marker through the kernel behind all earlier frames and resolves when `to` has it. */
  barrier(to: UdpTunnel, n: number): Promise<void> {
    // A lost barrier fails the case with a reason instead of hanging it.
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`flush: barrier ${n} did not come through the kernel in 10 s`)), 10_000);
      to.#barrierWaiters.set(n, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const tag = new Uint8Array(4);
    new DataView(tag.buffer).setUint32(0, n);
    this.tun.send(udpPacket(this.src, this.dst, BARRIER_PORT, tag, this.#id++));
    return arrived;
  }

  #onPacket(pkt: Uint8Array): void {
    const ip = parseIpv4(pkt);
    if (!ip.ok || ip.value.protocol !== IpProtocol.Udp) return;
    const udp = parseUdp(ip.value.payload, { src: ip.value.src, dst: ip.value.dst });
    if (!udp.ok) return;
    if (udp.value.dstPort === BARRIER_PORT && udp.value.payload.length === 4) {
      const n = new DataView(udp.value.payload.buffer, udp.value.payload.byteOffset, 4).getUint32(0);
      this.#barrierWaiters.get(n)?.();
      this.#barrierWaiters.delete(n);
      return;
    }
    // A view into the packet TunLink delivered: one buffer per packet, so the receiver owns it.
    if (udp.value.dstPort === SUITE_PORT) this.#receiver?.(udp.value.payload);
  }
}

const gate = canUseNetns([]);

describeWithNetns('TUN link pair through kernel forwarding', gate, () => {
  let ns: Netns;
  const open: TunLink[] = [];
  let barriers = 0;

  beforeAll(() => {
    ns = createNetns();
    ns.execSync('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  });

  afterAll(() => {
    for (const t of open) t.close();
    ns?.destroy();
  });

  const factory = async (): Promise<LinkPair> => {
    // close() is synchronous but the kernel lets go of a device only once the
    // shared poll(2) has woken (a turn of the event loop later): until then
    // the last case's devices still hold the same subnets, and the kernel
    // would route this case's packets to them.
    await Promise.all(open.map((t) => t.released));
    const a = await openTun(uniqueTunName());
    const b = await openTun(uniqueTunName());
    open.push(a, b);
    ns.adoptLink(a.name, { address: A_NET.linux });
    ns.adoptLink(b.name, { address: B_NET.linux });
    const sender = new UdpTunnel(a, A_NET.ours, B_NET.ours);
    const receiver = new UdpTunnel(b, B_NET.ours, A_NET.ours);
    return {
      sender,
      receiver,
      flush: async () => {
        if (!a.closed && !b.closed) {
          await sender.barrier(receiver, barriers++);
        } else {
          // Nothing can pass a barrier after close: give stray frames a moment to show up instead.
          await new Promise((r) => setTimeout(r, 100));
        }
      },
    };
  };

  defineLinkConformance('TunLink (kernel-forwarded pair, UDP-wrapped)', factory, { describe: (n, f) => f(), it });
});
