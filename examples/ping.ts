/**
 * ping(8), written with the BSD calls the way a socket-programming course
 * writes it, over an unprivileged ICMP socket as on Linux:
 * socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP). The program writes an echo
 * request header (type 8, code 0, sequence) and its data; the stack fills in
 * the identifier (the socket's "port") and the checksum. The send time rides
 * in the first 8 data bytes, as ping's timeval does, so the RTT comes from
 * the reply itself. poll() waits for each reply until the timeout.
 *
 * The demo pings across a router on a virtual network (one reply lost while
 * the far host is unplugged) and prints what ping(8) prints.
 *
 * Run it: `npx tsx examples/ping.ts`.
 */
import { MemoryNetwork } from '../src/link/memory.js';
import { Stack } from '../src/stack/stack.js';
import { constants as C } from '../src/syscall/constants.js';
import type { Syscalls } from '../src/syscall/syscalls.js';
import { Duration } from '../src/time/duration.js';
import { Instant } from '../src/time/instant.js';
import { ManualClock } from '../src/time/manual-clock.js';

const ICMP_ECHO = 8;
const ICMP_ECHOREPLY = 0;

export interface PingOptions {
  /** Requests to send (ping -c). Default 4. */
  readonly count?: number;
  /** Data bytes (ping -s), at least 8 for the timestamp. Default 56. */
  readonly size?: number;
  /** Milliseconds between requests (ping -i). Default 1000. */
  readonly intervalMs?: number;
  /** How long to wait for each reply (ping -W), in ms. Default 1000. */
  readonly timeoutMs?: number;
  /** Where lines go. Default console.log. */
  readonly print?: (line: string) => void;
}

export interface PingSummary {
  readonly transmitted: number;
  readonly received: number;
  /** Round-trip times of the replies, in ms. */
  readonly rtts: readonly number[];
}

/** Sends `count` echo requests to `host` and prints each reply and a summary, like ping(8). */
export async function ping(sys: Syscalls, now: () => number, host: string, opts: PingOptions = {}): Promise<PingSummary> {
  const count = opts.count ?? 4;
  const size = Math.max(8, opts.size ?? 56);
  const intervalMs = opts.intervalMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const print = opts.print ?? ((line: string) => console.log(line));

  const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_ICMP);
  const rtts: number[] = [];
  const started = now();
  let transmitted = 0;
  try {
    print(`PING ${host} (${host}) ${size}(${size + 28}) bytes of data.`);
    const request = new Uint8Array(8 + size);
    const reply = new Uint8Array(8 + size + 64);
    for (let seq = 1; seq <= count; seq++) {
      const sentAt = now();
      request[0] = ICMP_ECHO;
      request[1] = 0;
      request[6] = seq >> 8;
      request[7] = seq & 0xff;
      new DataView(request.buffer).setFloat64(8, sentAt);
      for (let i = 16; i < request.length; i++) request[i] = i & 0xff;
      await sys.sendto(fd, request, 0, { address: host, port: 0 });
      transmitted++;

      // Wait for this sequence's reply until the timeout; skip stale or foreign ones.
      const deadline = sentAt + timeoutMs;
      for (;;) {
        const left = deadline - now();
        if (left <= 0) break;
        const [ready] = await sys.poll([{ fd, events: C.POLLIN }], left);
        if (ready === undefined || (ready.revents & C.POLLIN) === 0) continue;
        const r = await sys.recvfrom(fd, reply, C.MSG_DONTWAIT);
        if (r.bytesRead < 16 || reply[0] !== ICMP_ECHOREPLY) continue;
        const gotSeq = (reply[6]! << 8) | reply[7]!;
        if (gotSeq !== seq) continue;
        const rtt = now() - new DataView(reply.buffer).getFloat64(8);
        rtts.push(rtt);
        print(`${r.bytesRead} bytes from ${r.address.address}: icmp_seq=${seq} time=${rtt.toFixed(3)} ms`);
        break;
      }
      // ping -i: the next request goes out one interval after this one.
      const pause = sentAt + intervalMs - now();
      if (seq < count && pause > 0) await sys.poll([], pause);
    }
  } finally {
    sys.close(fd);
  }

  const received = rtts.length;
  const loss = transmitted === 0 ? 0 : Math.round((100 * (transmitted - received)) / transmitted);
  print('');
  print(`--- ${host} ping statistics ---`);
  print(`${transmitted} packets transmitted, ${received} received, ${loss}% packet loss, time ${Math.round(now() - started)}ms`);
  if (received > 0) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / received;
    const mdev = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / received);
    print(`rtt min/avg/max/mdev = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)}/${mdev.toFixed(3)} ms`);
  }
  return { transmitted, received, rtts };
}

/**
 * host (10.0.0.1) -- router -- far (10.0.1.2), 1 ms per link each way; the
 * far host is unplugged during the third request. Returns the printed lines.
 */
export async function demo(): Promise<string[]> {
  const clock = new ManualClock();
  const left = new MemoryNetwork({ clock, seed: 1, latency: Duration.fromMillis(1) });
  const right = new MemoryNetwork({ clock, seed: 2, latency: Duration.fromMillis(1) });
  const host = new Stack({ clock, seed: 1 });
  const router = new Stack({ clock, seed: 2, forwarding: true });
  const far = new Stack({ clock, seed: 3 });
  host.addInterface(left.attach({ name: 'host' }), { address: '10.0.0.1/24', gateway: '10.0.0.254' });
  router.addInterface(left.attach({ name: 'r0' }), { address: '10.0.0.254/24' });
  router.addInterface(right.attach({ name: 'r1' }), { address: '10.0.1.254/24' });
  const farLink = right.attach({ name: 'far' });
  far.addInterface(farLink, { address: '10.0.1.2/24', gateway: '10.0.1.254' });
  clock.setTimer(Instant.fromMillis(1900), () => {
    farLink.setEnabled(false);
  });
  clock.setTimer(Instant.fromMillis(2700), () => {
    farLink.setEnabled(true);
  });

  const lines: string[] = [];
  let done = false;
  const run = ping(host.sys, () => Instant.toMillis(clock.now()), '10.0.1.2', { count: 4, print: (l) => lines.push(l) }).finally(() => {
    done = true;
  });
  // Drive virtual time a millisecond at a time, letting the program run in between.
  for (let ms = 0; ms < 60_000 && !done; ms++) {
    clock.advance(Duration.fromMillis(1));
    await new Promise<void>((r) => setTimeout(r, 0));
  }
  await run;
  host.close();
  router.close();
  far.close();
  return lines;
}

// Run directly with tsx: print the transcript.
const entry = (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1];
if (entry !== undefined && import.meta.url.endsWith(entry.replace(/\\/g, '/').split('/').pop() ?? '\0')) {
  for (const line of await demo()) console.log(line);
}
