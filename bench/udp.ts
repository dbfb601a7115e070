/**
 * Case "udp-pps": datagrams per second one way, 64-byte and 1400-byte
 * payloads, between two sockstack Stacks on a zero-latency MemoryNetwork
 * (SystemClock: real time, what a program gets; see bench/tcp.ts) against
 * Node `dgram` over 127.0.0.1. Both sides count datagrams RECEIVED.
 *
 * Why a window: sender and receiver share one event loop. A sender that
 * never yields starves its own receiver, the receive buffer overflows, and
 * the figure measures buffer size and scheduling, not delivery (a first
 * version did exactly that: Node fell from 138k/s at 300 datagrams to 11k/s
 * at 5000). So both sides run the same loop: send one datagram per call, the
 * next once the call has completed, but never more than WINDOW ahead of what
 * the receiver has read; the sender then waits for the receiver to catch up.
 * A datagram that is dropped anyway stays uncounted (the sender gives up on
 * it after STALL_MS), so loss still lowers the figure.
 *
 * The figure is received / (time of the last receipt - start).
 */
import dgram from 'node:dgram';
import { constants as C } from '../src/syscall/constants.js';
import type { BenchCase, CaseContext, Measurement } from './lib/harness.js';
import { fill, stackPair } from './tcp.js';
import type { Pair } from './tcp.js';

const SIZES = [64, 1400] as const;
/** Datagrams sent and not yet read; well under either side's default receive buffer (212992 bytes). */
const WINDOW = 64;
/** How long the sender waits for the receiver to catch up before it counts the missing datagrams as lost. */
const STALL_MS = 200;

/** What the receiver side reports to the sender loop. */
class Receipts {
  count = 0;
  lastAt = 0;
  #waiter: (() => void) | undefined;

  got(): void {
    this.count++;
    this.lastAt = performance.now();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Resolves at the next receipt, or after `ms` (then false). */
  next(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(false);
      }, ms);
      this.#waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}

interface Tally {
  received: number;
  secs: number;
}

/** The sender loop both sides share; returns once everything sent was received or given up on. */
async function windowedSend(count: number, send: () => Promise<unknown>, r: Receipts): Promise<void> {
  let lost = 0;
  let sent = 0;
  const settle = async (limit: number): Promise<void> => {
    while (sent - lost - r.count > limit) {
      if (!(await r.next(STALL_MS))) lost = sent - r.count;
    }
  };
  while (sent < count) {
    await settle(WINDOW - 1);
    await send();
    sent++;
  }
  await settle(0);
}

async function sockstackUdp(pair: Pair, size: number, count: number, port: number): Promise<Tally> {
  const { client, server } = pair;
  const rfd = server.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  server.bind(rfd, { address: C.INADDR_ANY, port });
  const sfd = client.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  const payload = fill(new Uint8Array(size), 0xd6 + size);
  const buf = new Uint8Array(2048);
  const r = new Receipts();
  const start = performance.now();
  const receiving = (async () => {
    try {
      for (;;) {
        await server.recvfrom(rfd, buf);
        r.got();
      }
    } catch {
      // close(rfd) below ends the last wait.
    }
  })();
  const to = { address: pair.serverAddress, port };
  await windowedSend(count, () => client.sendto(sfd, payload, 0, to), r);
  server.close(rfd);
  client.close(sfd);
  await receiving;
  return { received: r.count, secs: (r.lastAt - start) / 1000 };
}

async function nodeUdp(size: number, count: number): Promise<Tally> {
  const rx = dgram.createSocket('udp4');
  const tx = dgram.createSocket('udp4');
  const r = new Receipts();
  rx.on('message', () => r.got());
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
  const port = rx.address().port;
  const payload = Buffer.from(fill(new Uint8Array(size), 0xd6 + size));
  const start = performance.now();
  await windowedSend(count, () => new Promise<void>((resolve, reject) => tx.send(payload, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))), r);
  tx.close();
  rx.close();
  return { received: r.count, secs: (r.lastAt - start) / 1000 };
}

export const udpPpsCase: BenchCase = {
  name: 'udp-pps',
  description: `UDP datagrams one way, at most ${WINDOW} unread, between two stacks over MemoryNetwork MTU 1500, SystemClock; counts datagrams received`,
  reference: 'Node dgram over 127.0.0.1, same datagrams and window, counted on receipt',
  async run(ctx: CaseContext): Promise<Measurement[]> {
    // Full: 100 000, about half a second per side at the rates of both (150-200k datagrams/s here).
    const count = ctx.quick ? 300 : 100_000;
    const out: Measurement[] = [];
    for (const size of SIZES) {
      const pair = stackPair({ mtu: 1500, seed: 1 + ctx.iteration });
      let ours: Tally;
      let ref: Tally;
      try {
        if (ctx.iteration % 2 === 0) {
          ours = await sockstackUdp(pair, size, count, 5004);
          ref = await nodeUdp(size, count);
        } else {
          ref = await nodeUdp(size, count);
          ours = await sockstackUdp(pair, size, count, 5004);
        }
      } finally {
        pair.close();
      }
      if (ours.received === 0 || ref.received === 0) throw new Error(`udp-pps ${size} B: nothing received (sockstack ${ours.received}, node ${ref.received})`);
      out.push({ metric: `${size} B`, unit: 'dgram/s', better: 'higher', sockstack: ours.received / ours.secs, reference: ref.received / ref.secs });
    }
    return out;
  },
};
