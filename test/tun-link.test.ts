// The TUN link against the Linux kernel: a Stack on a TUN device whose other
// end sits in a network namespace this test creates (10.99.0.1 is Linux,
// 10.99.0.2 is sockstack; nothing routes out of the namespace). Linux pings
// the stack, the stack pings Linux, large pings are fragmented both ways,
// and the whole run, recorded through a PcapLink, is read by tshark with all
// checksum checks on. Without root and namespaces the tests skip with the
// reason printed (and fail under CI=true).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinkType } from '../src/link/link.js';
import { PcapLink } from '../src/link/pcap-link.js';
import { openTun, TunError } from '../src/link/tun/index.js';
import type { TunLink } from '../src/link/tun/index.js';
import { createPcapFile } from '../src/node/pcap-file.js';
import type { PcapFileHandle } from '../src/node/pcap-file.js';
import { Stack } from '../src/stack/stack.js';
import { Duration } from '../src/time/duration.js';
import { SystemClock } from '../src/time/system-clock.js';
import { canUseNetns, createNetns, describeWithNetns, uniqueTunName } from './helpers/netns.js';
import type { Netns } from './helpers/netns.js';
import { findTshark, tsharkFrames } from './helpers/tshark.js';

const LINUX = '10.99.0.1';
const STACK = '10.99.0.2';
const gate = canUseNetns(['ping', 'setpriv']);

/** "3 packets transmitted, 3 received" from iputils/busybox ping output. */
function pingCounts(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(out);
  if (m === null) throw new Error(`cannot read ping output:\n${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

describeWithNetns('TUN link: sockstack and the Linux kernel in a network namespace', gate, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockstack-tun-'));
  const pcapPath = join(dir, 'tun-run.pcap');
  let ns: Netns;
  let tun: TunLink;
  let stack: Stack;
  let pcap: PcapFileHandle;

  beforeAll(async () => {
    ns = createNetns();
    tun = await openTun(uniqueTunName());
    // The fd stays ours after the device moves: from here on only the
    // namespace sees the device, and only through it the stack.
    ns.adoptLink(tun.name, { address: `${LINUX}/24` });
    const clock = new SystemClock();
    pcap = createPcapFile(pcapPath, { linkType: LinkType.RawIp });
    // checksums 'always': a TUN link is not trusted, but say it anyway, the capture is checked below.
    stack = new Stack({ clock, seed: 6, checksums: 'always' });
    stack.addInterface(new PcapLink(tun, { writer: pcap.writer, clock }), { address: `${STACK}/24` });
  });

  afterAll(() => {
    stack?.close();
    pcap?.close();
    ns?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes itself: raw IP, the device MTU, a kernel-given name', () => {
    expect(tun.linkType).toBe(LinkType.RawIp);
    expect(tun.mtu).toBe(1500);
    expect(ns.ip('-o', 'link', 'show', 'dev', tun.name)).toContain('mtu 1500');
  });

  it('Linux pings the stack', async () => {
    const r = await ns.run('ping', ['-n', '-c', '3', '-i', '0.2', '-W', '5', STACK]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(pingCounts(r.stdout)).toEqual({ sent: 3, received: 3 });
  });

  it('the stack pings Linux', async () => {
    const r = await stack.ping(LINUX, { count: 3, interval: Duration.fromMillis(100), timeout: Duration.fromSecs(5) });
    expect(r.received).toBe(3);
    expect(r.rtts).toHaveLength(3);
    expect(r.rtts.every((t) => t !== undefined)).toBe(true);
  });

  it('a 4000-byte ping from Linux: fragmented both ways, reassembled on both sides', async () => {
    const before = tun.stats.get('rxPackets');
    const r = await ns.run('ping', ['-n', '-c', '2', '-i', '0.2', '-W', '5', '-s', '4000', '-M', 'want', STACK]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(pingCounts(r.stdout)).toEqual({ sent: 2, received: 2 });
    // 4008 bytes of ICMP in 1500-byte packets: 3 fragments per request.
    expect(tun.stats.get('rxPackets') - before).toBeGreaterThanOrEqual(6);
  });

  it('a 4000-byte stack.ping to Linux', async () => {
    const before = tun.stats.get('txPackets');
    const r = await stack.ping(LINUX, { count: 2, size: 4000, interval: Duration.fromMillis(100), timeout: Duration.fromSecs(5) });
    expect(r.received).toBe(2);
    expect(tun.stats.get('txPackets') - before).toBeGreaterThanOrEqual(6);
  });

  it('a burst of 64 pings in flight at once: all answered, read in batches', async () => {
    const batches = tun.stats.get('rxBatches');
    const packets = tun.stats.get('rxPackets');
    // -l preloads: 64 requests leave without waiting for replies.
    const r = await ns.run('ping', ['-n', '-q', '-c', '64', '-l', '64', '-i', '0.01', '-W', '5', STACK]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(pingCounts(r.stdout)).toEqual({ sent: 64, received: 64 });
    const read = tun.stats.get('rxPackets') - packets;
    const wakeups = tun.stats.get('rxBatches') - batches;
    expect(read).toBe(64);
    // Not a timing assertion: a wake-up reads at least one packet, so never more wake-ups than packets.
    expect(wakeups).toBeLessThanOrEqual(read);
    console.info(`[tun] 64 packets in ${wakeups} wake-ups`);
  });

  it('records the run in a pcap that tshark reads with no damage', () => {
    pcap.flush();
    const tshark = findTshark();
    if (tshark === undefined) {
      if (process.env.CI === 'true') throw new Error('tshark is not installed; CI must check the capture');
      console.warn('[tun] tshark is not installed: capture not checked');
      return;
    }
    const frames = tsharkFrames(tshark, pcapPath);
    const damaged = frames.filter((f) => f.problems.length > 0).map((f) => `#${f.number}: ${f.problems.join(', ')}`);
    expect(damaged).toEqual([]);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((f) => f.protocols[0] === 'raw' && f.protocols.includes('ip'))).toBe(true);
    // Echo requests and replies both ways, and fragments from both sides.
    const echo = (type: number, src: string): number => frames.filter((f) => f.icmpType === type && f.src === src).length;
    expect(echo(8, LINUX)).toBeGreaterThanOrEqual(3 + 2 + 64);
    expect(echo(0, STACK)).toBeGreaterThanOrEqual(3 + 2 + 64);
    expect(echo(8, STACK)).toBeGreaterThanOrEqual(3 + 2);
    expect(echo(0, LINUX)).toBeGreaterThanOrEqual(3 + 2);
    expect(frames.some((f) => f.fragment && f.src === LINUX)).toBe(true);
    expect(frames.some((f) => f.fragment && f.src === STACK)).toBe(true);
    expect(frames.filter((f) => f.reassembled).length).toBeGreaterThanOrEqual(8);
  });

  it('close() releases the device: it disappears from the namespace', async () => {
    const name = tun.name;
    stack.close(); // closes the PcapLink, and through it the TUN link
    expect(tun.closed).toBe(true);
    await tun.released;
    expect(await ns.run('ip', ['link', 'show', 'dev', name]).then((r) => r.code)).not.toBe(0);
    // Later sends are dropped and counted, not written.
    tun.send(new Uint8Array(20));
    expect(tun.stats.get('txDropClosed')).toBe(1);
  });
});

describeWithNetns('TUN link: errors say what to do', gate, () => {
  it('a name longer than 15 bytes', async () => {
    const e = await openTun('a-name-far-too-long').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TunError);
    expect(e).toMatchObject({ code: 'EINVAL', errno: -22, device: 'a-name-far-too-long' });
    expect((e as Error).message).toMatch(/19 bytes long.*at most 15/);
  });

  it('a bad MTU is a programmer error', async () => {
    await expect(openTun('sst0', { mtu: 40 })).rejects.toThrow(RangeError);
  });

  it('no device node: names the module and mknod', async () => {
    const e = await openTun('sst0', { path: '/nonexistent/dev/net/tun' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'TunError', code: 'ENOENT', syscall: 'open' });
    expect((e as Error).message).toContain('modprobe tun');
    expect((e as Error).message).toContain('mknod');
  });

  it('a device another fd holds: EBUSY names the device', async () => {
    const name = uniqueTunName();
    const first = await openTun(name);
    try {
      const e = await openTun(name).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'EBUSY', errno: -16, syscall: 'ioctl(TUNSETIFF)', device: name });
      expect((e as Error).message).toContain(`another process holds tun device ${name}`);
    } finally {
      first.close();
      await first.released;
    }
    // Released: the name can be opened again.
    const again = await openTun(name);
    again.close();
    await again.released;
  });

  it('a TAP device of that name: EINVAL says it is not a TUN device', async () => {
    const name = uniqueTunName();
    expect(spawnSync('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap']).status).toBe(0);
    try {
      const e = await openTun(name).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'EINVAL', syscall: 'ioctl(TUNSETIFF)' });
      expect((e as Error).message).toContain('not a TUN device');
    } finally {
      spawnSync('ip', ['link', 'del', 'dev', name]);
    }
  });

  it('without CAP_NET_ADMIN: EPERM says to run as root or grant the capability', () => {
    // A child process with CAP_NET_ADMIN dropped from its bounding set: it
    // can still open /dev/net/tun (root owns it) but TUNSETIFF is refused.
    const script = [
      `import { openTun } from ${JSON.stringify(join(process.cwd(), 'src/link/tun/index.ts'))};`,
      `openTun(${JSON.stringify(uniqueTunName())}).then((l) => { l.close(); console.log('OPENED'); },`,
      `  (e) => console.log(JSON.stringify({ name: e.name, code: e.code, syscall: e.syscall, message: e.message })));`,
    ].join('\n');
    const r = spawnSync(
      'setpriv',
      ['--bounding-set', '-net_admin', '--inh-caps', '-net_admin', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
    expect(out).toMatchObject({ name: 'TunError', code: 'EPERM', syscall: 'ioctl(TUNSETIFF)' });
    expect(out.message).toContain('run as root or grant CAP_NET_ADMIN');
    expect(r.stderr).not.toMatch(/koffi|at .*\.js:/);
  });
});
