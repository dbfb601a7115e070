// UDP and path MTU between sockstack and the Linux kernel over a TUN device
// (issue 6, items 3, 7 and 8). Item 4 (ping both ways, fragmented pings) is
// test/tun-link.test.ts.
//   - UDP both ways with python3, including 20000-byte datagrams that IPv4
//     must fragment (and reassemble) in both directions;
//   - the Linux side with MTU 1280 (the stack's side stays 1500): TCP's MSS
//     option carries it, and no segment either side sends exceeds 1280
//     bytes, read from the pcap with tshark, which also finds no damage.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveEcho, serveHttp, writeAll } from '../src/cli/serve-services.js';
import type { Service } from '../src/cli/serve-services.js';
import { constants as C } from '../src/syscall/constants.js';
import { canUseNetns, describeWithNetns } from './helpers/netns.js';
import { findTshark, tsharkFrames } from './helpers/tshark.js';
import { captureDamage, collect, createInteropNet, MiB, noPayloadGuessing, patternBytes, python, sha256, waitForLine } from './interop-helpers.js';
import type { InteropNet } from './interop-helpers.js';

const gate = canUseNetns(['curl', 'python3', 'sha256sum']);

/** Requires tshark under CI; elsewhere returns undefined with a warning. */
function tsharkOrSkip(what: string): string | undefined {
  const tshark = findTshark();
  if (tshark === undefined) {
    if (process.env.CI === 'true') throw new Error(`tshark is not installed; CI must check ${what}`);
    console.warn(`[interop] tshark is not installed: ${what} not checked`);
  }
  return tshark;
}

describeWithNetns('interop: UDP and MTU 1280 with the Linux kernel', gate, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockstack-udp-mtu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('UDP both ways (1500-byte MTU)', () => {
    const pcapPath = join(dir, 'udp.pcap');
    let net: InteropNet;
    let echo: Service;
    beforeAll(async () => {
      net = await createInteropNet({ pcapPath, seed: 8 });
      echo = serveEcho(net.stack.sys, { port: 7 });
    });
    afterAll(() => {
      echo?.close();
      net?.close();
    });

    it('python3 sends datagrams of 1, 1472, 1473 and 20000 bytes to the sockstack echo service and gets each back', async () => {
      const r = await net.ns.run('python3', [
        '-c',
        [
          'import socket',
          's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)',
          'for n in (1, 1472, 1473, 20000):',
          '    data = bytes((i * 11 + n) & 255 for i in range(n))',
          `    s.sendto(data, ('${net.sock}', 7))`,
          '    got, addr = s.recvfrom(65535)',
          "    print(n, 'same' if got == data else f'differ {len(got)}', addr[0], addr[1])",
        ].join('\n'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([1, 1472, 1473, 20000].map((n) => `${n} same ${net.sock} 7`));
    });

    it('sockstack sends datagrams of 1, 1473 and 20000 bytes to a python3 echo server and gets each back', async () => {
      const server = python(
        net.ns,
        [
          'import socket',
          's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
          `s.bind(('${net.linux}', 41005)); print('listening', flush=True)`,
          'for _ in range(3):',
          '    d, a = s.recvfrom(65535); s.sendto(d, a); print(len(d), flush=True)',
        ].join('\n'),
      );
      const done = collect(server);
      await waitForLine(server, /listening/);
      const sys = net.stack.sys;
      const fd = sys.socket(C.AF_INET, C.SOCK_DGRAM, 0);
      try {
        sys.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, { sec: 5, usec: 0 });
        const buf = new Uint8Array(65535);
        for (const n of [1, 1473, 20000]) {
          const data = patternBytes(n, n);
          expect(await sys.sendto(fd, data, 0, { address: net.linux, port: 41005 })).toBe(n);
          const r = await sys.recvfrom(fd, buf);
          expect(r.address).toMatchObject({ address: net.linux, port: 41005 });
          expect(sha256(buf.subarray(0, r.bytesRead))).toBe(sha256(data));
        }
      } finally {
        sys.close(fd);
      }
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').slice(1)).toEqual(['1', '1473', '20000']);
    });

    it('the capture: fragments from both sides, reassembled by tshark, nothing damaged', () => {
      net.pcap?.flush();
      const tshark = tsharkOrSkip('the UDP capture');
      if (tshark === undefined) return;
      const frames = tsharkFrames(tshark, pcapPath, noPayloadGuessing(tshark));
      expect(captureDamage(frames, net.linux).damaged).toEqual([]);
      // 20008 bytes of UDP in 1480-byte fragment payloads: 14 fragments per datagram.
      expect(frames.filter((f) => f.fragment && f.src === net.linux).length).toBeGreaterThanOrEqual(14 * 2 + 2);
      expect(frames.filter((f) => f.fragment && f.src === net.sock).length).toBeGreaterThanOrEqual(14 * 2 + 2);
      expect(frames.filter((f) => f.reassembled).length).toBeGreaterThanOrEqual(8);
    });
  });

  describe('Linux side with MTU 1280', () => {
    const pcapPath = join(dir, 'mtu1280.pcap');
    const file = patternBytes(4 * MiB, 3);
    let net: InteropNet;
    let http: Service;
    let echo: Service;
    beforeAll(async () => {
      writeFileSync(join(dir, 'f.bin'), file);
      net = await createInteropNet({ pcapPath, linuxMtu: 1280, seed: 9 });
      http = serveHttp(net.stack.sys, { port: 80, root: dir });
      echo = serveEcho(net.stack.sys, { port: 7 });
    });
    afterAll(() => {
      http?.close();
      echo?.close();
      net?.close();
    });

    it('curl downloads 4 MiB from sockstack', async () => {
      const r = await net.ns.run('sh', ['-c', `curl -sS --fail http://${net.sock}/f.bin | sha256sum`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split(' ')[0]).toBe(sha256(file));
    });

    it('python3 streams 2 MiB through the sockstack echo service', async () => {
      const r = await net.ns.run('python3', [
        '-c',
        [
          'import socket, threading',
          `c = socket.create_connection(('${net.sock}', 7))`,
          'data = bytes((i * 7 + i // 253) & 255 for i in range(2 << 20))',
          'threading.Thread(target=lambda: (c.sendall(data), c.shutdown(socket.SHUT_WR))).start()',
          "got = b''",
          'while (d := c.recv(1 << 16)): got += d',
          "print('same' if got == data else f'differ {len(got)}')",
        ].join('\n'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('same');
    });

    it('sockstack uploads 4 MiB to python3', async () => {
      const server = python(
        net.ns,
        [
          'import socket, hashlib',
          's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
          `s.bind(('${net.linux}', 41002)); s.listen(1); print('listening', flush=True)`,
          'c, _ = s.accept(); h = hashlib.sha256()',
          'while True:',
          '    d = c.recv(1 << 16)',
          '    if not d: break',
          '    h.update(d)',
          "c.sendall(h.hexdigest().encode()); c.close()",
        ].join('\n'),
      );
      const done = collect(server);
      await waitForLine(server, /listening/);
      const sys = net.stack.sys;
      const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      try {
        await sys.connect(fd, { address: net.linux, port: 41002 });
        // What the stack settled on: at most Linux's MSS (1280 - 40).
        expect(sys.getsockopt(fd, C.IPPROTO_TCP, C.TCP_MAXSEG)).toBeLessThanOrEqual(1240);
        await writeAll(sys, fd, file);
        sys.shutdown(fd, C.SHUT_WR);
        const buf = new Uint8Array(128);
        let reply = '';
        for (let n; (n = await sys.read(fd, buf)) > 0; ) reply += Buffer.from(buf.subarray(0, n)).toString();
        expect(reply).toBe(sha256(file));
      } finally {
        sys.close(fd);
      }
      expect((await done).code).toBe(0);
    });

    it('in the pcap: Linux announces MSS 1240, and no packet of either side exceeds 1280 bytes', () => {
      net.pcap?.flush();
      const tshark = tsharkOrSkip('the MTU capture');
      if (tshark === undefined) return;
      const frames = tsharkFrames(tshark, pcapPath, noPayloadGuessing(tshark));
      expect(captureDamage(frames, net.linux).damaged).toEqual([]);
      const r = spawnSync(
        tshark,
        ['-r', pcapPath, '-Y', 'tcp.flags.syn == 1', '-T', 'fields', '-E', 'separator=,', '-e', 'ip.src', '-e', 'tcp.flags.ack', '-e', 'tcp.options.mss_val'],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      const syns = r.stdout.trim().split('\n').map((l) => l.split(','));
      // Linux's SYN (to the server) and SYN-ACK (from the upload's server) carry 1240.
      const fromLinux = syns.filter(([src]) => src === net.linux);
      expect(fromLinux.length).toBeGreaterThanOrEqual(2);
      expect(fromLinux.every(([, , mss]) => mss === '1240')).toBe(true);
      const fromStack = frames.filter((f) => f.src === net.sock);
      const fromKernel = frames.filter((f) => f.src === net.linux);
      // Both sides sent full-size segments, so the limit was reached, not just respected by small writes.
      expect(Math.max(...fromStack.map((f) => f.len))).toBe(1280);
      expect(Math.max(...fromKernel.map((f) => f.len))).toBe(1280);
      expect(fromStack.filter((f) => f.fragment)).toEqual([]);
    });
  });
});
