/**
 * The TCP send path of TcpProtocol: a connection's segments handed to the
 * IP layer with their header built in place (no closure, no request record
 * per segment), the retransmission count kept on the way (RFC 4898
 * tcpEStatsPerfSegsRetrans, Linux tcp_retransmit_skb), and the RST sent
 * for a segment no socket wants (RFC 9293 3.10.7.1).
 *
 * Apart from tcp-protocol.ts so that the demultiplexing and timer engine
 * there and the byte-level transmission here can be read on their own.
 */
import type { DstCacheSlot, IpRoute, IpSendStatus, IpSender } from '../stack/transport.js';
import type { CounterCell } from '../stats/counters.js';
import { copyFromStore } from '../storage/ring-buffer.js';
import { IP_PMTUDISC_WANT, pmtuDiscSetsDf } from '../syscall/sockopt.js';
import type { Instant } from '../time/instant.js';
import type { Ipv4Address } from '../wire/address.js';
import { IPV4_DEFAULT_TTL, IPV4_HEADER_LEN, IpProtocol } from '../wire/ipv4.js';
import { TcpFlag, emitTcpHeaderTrusted, finishTcpChecksum, finishTcpChecksumAt, tcpHeaderLen } from '../wire/tcp.js';
import type { TcpHeaderRepr, TcpRepr } from '../wire/tcp.js';
import type { TcpSegmentOut } from './connection.js';
import { resetFor } from './listener.js';
import { seqAdd, seqGt, seqLe, seqLt } from './seq.js';
import { TcpCounter } from './tcp-counters.js';
import type { ConnEntry, TimeWaitEntry } from './tcp-entry.js';
import type { TcpHost } from './tcp-host.js';
import { pmtuMode } from './tcp-icmp-error.js';

/** Payloads from this length on are summed from the send buffer's view (#fill): a full segment. */
const LONG_PAYLOAD = 512;

/** The store of an empty payload, shared. */
const NO_STORE = new Uint8Array(0);

/** The IpSendRequest fields a TCP segment sets, writable (see #txRequest). */
interface TxRequest {
  dst: Ipv4Address;
  src: Ipv4Address;
  protocol: number;
  ttl: number;
  dscp: number;
  ecn: number;
  dontFragment: boolean;
  dstCache: DstCacheSlot | undefined;
}

export class TcpTransmitter {
  readonly #host: TcpHost;
  // Per-segment counters, taken once by TcpProtocol (issue 9: no name lookup per segment).
  readonly #outSegs: CounterCell;
  readonly #retransSegs: CounterCell;

  constructor(host: TcpHost, outSegs: CounterCell, retransSegs: CounterCell) {
    this.#host = host;
    this.#outSegs = outSegs;
    this.#retransSegs = retransSegs;
  }

  transmit(now: Instant, entry: ConnEntry, seg: TcpSegmentOut): void {
    const h = seg.header;
    const len = seg.payloadLength;
    const seqLen = len + ((h.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((h.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
    if (seqLen > 0) {
      const end = seqAdd(h.seq, seqLen);
      if (seqLt(h.seq, entry.highestSent) || ((h.flags & TcpFlag.SYN) !== 0 && seqLe(end, entry.highestSent))) {
        entry.totalRetrans++;
        this.#retransSegs.n++;
        // A timeout, not a fast retransmit: maybe our frames go to the wrong MAC
        // (a corrupted ARP packet); have the neighbour re-verified now.
        if (entry.conn.timeouts > 0) this.#host.ip.neighbourAdvice?.(now, entry.conn.remote.addr, 'suspect');
      }
      if (seqGt(end, entry.highestSent)) entry.highestSent = end;
    }
    if ((h.flags & TcpFlag.RST) !== 0) this.#host.stats.increment(TcpCounter.OutRsts);
    const hlen = seg.headerLength;
    const local = entry.conn.local;
    const remote = entry.conn.remote;
    // One request record for every segment (issue 9): ip.send reads it during
    // the call and keeps nothing; a send nested in another (a synchronous
    // link) gets its own.
    const req = this.#txDepth === 0 ? this.#txRequest : { ...this.#txRequest };
    req.dst = remote.addr;
    req.src = local.addr;
    req.ttl = entry.ttl;
    req.dscp = entry.tos >>> 2;
    req.ecn = entry.tos & 3;
    // RFC 1191: DF on (IP_MTU_DISCOVER WANT, DO, PROBE; not DONT, INTERFACE, OMIT).
    // setPathMtu lowers the MSS when the path shrinks; should a segment still not
    // fit (queued before the news), fragmenting beats a black hole.
    req.dontFragment = pmtuDiscSetsDf(pmtuMode(entry)) && IPV4_HEADER_LEN + hlen + len <= entry.pathMtu;
    // The connection's cached route (Linux sk_dst_cache): the IP layer skips its lookups while it stands.
    req.dstCache = entry;
    this.#txDepth++;
    let status: IpSendStatus;
    try {
      status = this.#host.ip.send(now, req, hlen + len, this.prepareFill(h, hlen, seg.payloadStore, seg.payloadStart, len));
    } finally {
      this.#txDepth--;
    }
    if (status === 'sent' || status === 'queued' || status === 'dropped') {
      this.#outSegs.n++;
    } else {
      // The segment is lost like any other; the retransmission timer takes over. The
      // errno is remembered as a soft error (Linux: sk_err_soft from ip_queue_xmit).
      this.#host.stats.increment(TcpCounter.SendErrors);
      entry.softError = status;
    }
  }

  readonly #txRequest: TxRequest = {
    dst: 0,
    src: 0,
    protocol: IpProtocol.Tcp,
    ttl: 0,
    dscp: 0,
    ecn: 0,
    dontFragment: true,
    dstCache: undefined,
  };
  #txDepth = 0;

  // The segment #fillPending writes: ip.send calls its fill synchronously
  // (before returning), so one bound function and these fields replace a
  // closure per segment.
  #fillHeader: TcpHeaderRepr | undefined;
  #fillHeaderLen = 0;
  #fillStore: Uint8Array = NO_STORE;
  #fillStart = 0;
  #fillLen = 0;
  readonly #fillPending = (buf: Uint8Array, route: IpRoute): void => {
    const h = this.#fillHeader;
    if (h === undefined) throw new Error('tcp: fill called outside ip.send');
    const store = this.#fillStore;
    this.#fillHeader = undefined;
    this.#fillStore = NO_STORE;
    // The route carries src and dst: it is the pseudo-header as it stands.
    this.#fill(buf, h, this.#fillHeaderLen, store, this.#fillStart, this.#fillLen, route.checksum ? route : undefined);
  };

  /** `h`, of tcpHeaderLen(h) `hlen`, and `len` payload bytes from store[start..], wrapping at its end (TcpSegmentOut). */
  prepareFill(h: TcpHeaderRepr, hlen: number, store: Uint8Array, start: number, len: number): (buf: Uint8Array, route: IpRoute) => void {
    this.#fillHeader = h;
    this.#fillHeaderLen = hlen;
    this.#fillStore = store;
    this.#fillStart = start;
    this.#fillLen = len;
    return this.#fillPending;
  }

  #fill(
    buf: Uint8Array,
    h: TcpHeaderRepr,
    headerLen: number,
    store: Uint8Array,
    start: number,
    len: number,
    pseudo: { src: Ipv4Address; dst: Ipv4Address } | undefined,
  ): void {
    // A header this stack built: no range checks (emitTcpHeaderTrusted, issue 9).
    const hlen = emitTcpHeaderTrusted(h, buf, len, pseudo, headerLen);
    if (pseudo !== undefined && len >= LONG_PAYLOAD) {
      // One view of the send buffer serves both the copy into the frame and
      // the payload's sum, which then needs no view of the frame (issue 9: a
      // view per segment less).
      const first = Math.min(len, store.length - start);
      const view = store.subarray(start, start + first);
      buf.set(view, hlen);
      if (first === len) {
        finishTcpChecksum(buf, view);
        return;
      }
      const rest = store.subarray(0, len - first);
      buf.set(rest, hlen + first);
      finishTcpChecksum(buf, [view, rest]);
      return;
    }
    if (len > 0) copyFromStore(store, start, len, buf, hlen);
    if (pseudo !== undefined) finishTcpChecksumAt(buf, hlen, hlen + len);
  }

  /**
   * The ACK of a TIME-WAIT record (time-wait.ts timeWaitAck's header), as
   * transmit() sends a connection's, for an orphan: no socket, so
   * IP_PMTUDISC_WANT (DF while the segment fits the path MTU).
   */
  sendTimeWaitAck(now: Instant, tw: TimeWaitEntry, h: TcpHeaderRepr): void {
    const hlen = tcpHeaderLen(h);
    const status = this.#host.ip.send(
      now,
      {
        dst: tw.remote.addr,
        src: tw.local.addr,
        protocol: IpProtocol.Tcp,
        ttl: tw.ttl,
        dscp: tw.tos >>> 2,
        ecn: tw.tos & 3,
        dontFragment: pmtuDiscSetsDf(IP_PMTUDISC_WANT) && IPV4_HEADER_LEN + hlen <= tw.pathMtu,
      },
      hlen,
      this.prepareFill(h, hlen, NO_STORE, 0, 0),
    );
    if (status === 'sent' || status === 'queued' || status === 'dropped') this.#outSegs.n++;
    else this.#host.stats.increment(TcpCounter.SendErrors);
  }

  /** RFC 9293 3.10.7.1: a RST in reply to `seg`, from the address it was sent to. */
  sendReset(now: Instant, ipSrc: Ipv4Address, ipDst: Ipv4Address, seg: TcpRepr, out: IpSender): void {
    const h = resetFor(seg);
    if (h === undefined) return; // never a RST for a RST
    const hlen = tcpHeaderLen(h);
    const status = out.send(
      now,
      { dst: ipSrc, src: ipDst, protocol: IpProtocol.Tcp, ttl: this.#host.defaultTtl ?? IPV4_DEFAULT_TTL },
      hlen,
      this.prepareFill(h, hlen, NO_STORE, 0, 0),
    );
    if (status === 'sent' || status === 'queued') {
      this.#outSegs.n++;
      this.#host.stats.increment(TcpCounter.OutRsts);
    }
  }
}
