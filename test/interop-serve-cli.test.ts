// `sockstack serve` as a user runs it (issue 6, the CLI): a separate process
// opens the TUN device; the test moves the device into its namespace, curls
// the HTTP server, uses the echo service over TCP and UDP, then stops the
// server with SIGINT: it exits 0, the device is gone, the pcap is readable.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canUseNetns, createNetns, describeWithNetns, uniqueTunName } from './helpers/netns.js';
import type { Netns } from './helpers/netns.js';
import { findTshark, tsharkFrames } from './helpers/tshark.js';
import { captureDamage, noPayloadGuessing } from './interop-helpers.js';

const gate = canUseNetns(['curl', 'python3']);
const LINUX = '10.97.0.1';
const STACK = '10.97.0.2';

describeWithNetns('interop: the sockstack serve CLI', gate, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockstack-serve-'));
  const pcapPath = join(dir, 'serve.pcap');
  const tun = uniqueTunName();
  let ns: Netns;
  let child: ChildProcess;
  let out = '';
  let err = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    writeFileSync(join(dir, 'index.html'), '<h1>sockstack</h1>\n');
    ns = createNetns();
    child = spawn(
      process.execPath,
      ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), 'serve', '--tun', tun, '--address', `${STACK}/24`,
        '--http', '8080', '--echo', '7', '--pcap', pcapPath, '--root', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not get ready:\n${out}\n${err}`)), 60_000);
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('sockstack: ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${out}\n${err}`)));
    });
    ns.adoptLink(tun, { address: `${LINUX}/24` });
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    ns?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says where it listens', () => {
    expect(out).toContain(`sockstack: ${STACK}/24 on tun device ${tun}`);
    expect(out).toContain(`sockstack: http on http://${STACK}:8080/`);
    expect(out).toContain(`sockstack: echo on ${STACK}:7 (tcp, udp)`);
  });

  it('curl gets index.html for /, and the request is logged', async () => {
    const r = await ns.run('curl', ['-sS', '--fail', `http://${STACK}:8080/`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('<h1>sockstack</h1>\n');
    // The log line is written after the response, so it may reach our pipe a moment after curl is done.
    const logged = new RegExp(`http: ${LINUX.replace(/\./g, '\\.')}:\\d+ GET / 200 19`);
    for (let i = 0; i < 100 && !logged.test(out); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(out).toMatch(logged);
  });

  it('echo over TCP and UDP', async () => {
    const r = await ns.run('python3', [
      '-c',
      [
        'import socket',
        `t = socket.create_connection(('${STACK}', 7)); t.sendall(b'over tcp'); t.shutdown(socket.SHUT_WR)`,
        "got = b''",
        'while (d := t.recv(100)): got += d',
        'print(got.decode())',
        `u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5); u.sendto(b'over udp', ('${STACK}', 7))`,
        'print(u.recv(100).decode())',
      ].join('\n'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('over tcp\nover udp\n');
  });

  it('SIGINT: a clean exit 0, the device released, the pcap complete', async () => {
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('sockstack: SIGINT, shutting down');
    expect(err).toBe('');
    expect((await ns.run('ip', ['link', 'show', 'dev', tun])).code).not.toBe(0);
    expect(existsSync(pcapPath) && statSync(pcapPath).size > 24).toBe(true);
    const tshark = findTshark();
    if (tshark === undefined) {
      if (process.env.CI === 'true') throw new Error('tshark is not installed; CI must check the capture');
      console.warn('[serve-cli] tshark is not installed: capture not checked');
      return;
    }
    const frames = tsharkFrames(tshark, pcapPath, noPayloadGuessing(tshark));
    expect(captureDamage(frames, LINUX).damaged).toEqual([]);
    expect(frames.some((f) => f.protocols.includes('http'))).toBe(true);
  });
});
