// TCP with the Linux kernel over an impaired path (issue 6, item 6).
//
// The issue asks for `tc qdisc ... netem` (loss 2 %, delay 10 ms, reordering,
// duplication). This kernel is built without netem (CONFIG_NET_SCH_NETEM is
// not set: `tc qdisc add dev X root netem loss 2%` fails with "Unknown qdisc
// netem"), so the namespace gets the nearest substitute the kernel has:
//   - loss: nftables `numgen random mod 100 < 2 drop`, both directions;
//   - duplication: nftables `dup to <sockstack> device <tun>` (nf_dup_ipv4)
//     for 1 % of Linux's packets;
//   - delay/queueing: a TBF qdisc (rate-limited, 256 KB queue) on the Linux
//     side of the device, so Linux's bursts queue and overflow (tail drop);
//     this is queueing delay, not netem's fixed 10 ms;
//   - reordering: NOT done. Without netem there is no kernel means here
//     (CONFIG_NFT_QUEUE is not set, and a userspace NFQUEUE reorderer would
//     need a python library that is not installed). sockstack's reordering
//     handling is covered by the transfer suite on the virtual network.
// nft counters prove that drops and duplicates really happened.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serveEcho, serveHttp, writeAll } from '../src/cli/serve-services.js';
import type { Service } from '../src/cli/serve-services.js';
import { constants as C } from '../src/syscall/constants.js';
import { canUseNetns, describeWithNetns } from './helpers/netns.js';
import { collect, createInteropNet, interopBytes, patternBytes, python, sha256, waitForLine } from './interop-helpers.js';
import type { InteropNet } from './interop-helpers.js';

const gate = canUseNetns(['curl', 'python3', 'sha256sum', 'nft', 'tc']);
// 20 MiB (issue 6) unless INTEROP_IMPAIRED_MIB says otherwise.
const BYTES = process.env.INTEROP_IMPAIRED_MIB === undefined ? interopBytes(20) : Math.round(Number(process.env.INTEROP_IMPAIRED_MIB) * 2 ** 20);

describeWithNetns('interop: TCP with Linux through loss, duplication and a small queue (nftables + tbf, no netem here)', gate, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockstack-impaired-'));
  const file = patternBytes(BYTES, 2);
  let net: InteropNet;
  let http: Service;
  let echo: Service;

  const counters = (): { lossIn: number; lossOut: number; dup: number } => {
    const out = net.ns.execSync('nft', ['list', 'table', 'ip', 'impair']);
    const get = (tag: string): number => Number(new RegExp(`counter packets (\\d+) bytes \\d+ [^\\n]*comment "${tag}"`).exec(out)?.[1] ?? NaN);
    return { lossIn: get('loss-in'), lossOut: get('loss-out'), dup: get('dup') };
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'file.bin'), file);
    net = await createInteropNet({ seed: 7 });
    const dev = net.tun.name;
    const ruleset = `
table ip impair {
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "${dev}" numgen random mod 100 < 2 counter drop comment "loss-in"
  }
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "${dev}" numgen random mod 100 < 2 counter drop comment "loss-out"
    oifname "${dev}" numgen random mod 100 < 1 counter dup to ${net.sock} device "${dev}" comment "dup"
  }
}`;
    const r = await net.ns.run('nft', ['-f', '-'], { input: ruleset });
    if (r.code !== 0) throw new Error(`nft failed: ${r.stderr}`);
    net.ns.execSync('tc', ['qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', '200mbit', 'burst', '32kb', 'limit', '256kb']);
    http = serveHttp(net.stack.sys, { port: 80, root: dir });
    echo = serveEcho(net.stack.sys, { port: 7 });
  });

  afterAll(() => {
    http?.close();
    echo?.close();
    net?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('netem really is missing (if this fails, the kernel has netem: use it and drop the substitutes)', async () => {
    const r = await net.ns.run('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'loss', '2%']);
    expect(r.code).not.toBe(0);
  });

  it(`sockstack -> Linux: curl downloads ${(BYTES / 2 ** 20).toFixed(1)} MiB intact`, async () => {
    const before = counters();
    const r = await net.ns.run('sh', ['-c', `curl -sS --fail --max-time 300 http://${net.sock}/file.bin | sha256sum`], { timeoutMs: 320_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(' ')[0]).toBe(sha256(file));
    const after = counters();
    // The impairments did act on this transfer: packets of both directions were dropped, Linux's ACKs duplicated.
    expect(after.lossIn - before.lossIn).toBeGreaterThan(0);
    expect(after.lossOut - before.lossOut).toBeGreaterThan(0);
    expect(after.dup - before.dup).toBeGreaterThan(0);
    console.info(`[impaired] download: dropped ${after.lossIn - before.lossIn} in, ${after.lossOut - before.lossOut} out, duplicated ${after.dup - before.dup}`);
  });

  it(`Linux -> sockstack -> Linux: python3 streams ${(BYTES / 2 ** 20).toFixed(1)} MiB through the echo service, both ways at once`, async () => {
    const before = counters();
    const r = await net.ns.run(
      'python3',
      [
        '-c',
        [
          'import socket, threading, hashlib, sys',
          `n = ${BYTES}`,
          `c = socket.create_connection(('${net.sock}', 7))`,
          'block = bytes((i * 13 + 5) & 255 for i in range(1 << 16))',
          'hs = hashlib.sha256()',
          'def send():',
          '    left = n',
          '    while left > 0:',
          '        b = block[:min(left, len(block))]; c.sendall(b); hs.update(b); left -= len(b)',
          '    c.shutdown(socket.SHUT_WR)',
          't = threading.Thread(target=send); t.start()',
          'hr = hashlib.sha256(); got = 0',
          'while True:',
          '    d = c.recv(1 << 16)',
          '    if not d: break',
          '    hr.update(d); got += len(d)',
          't.join(); c.close()',
          "print('ok' if got == n and hr.digest() == hs.digest() else f'bad {got}')",
        ].join('\n'),
      ],
      { timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
    const after = counters();
    expect(after.lossIn - before.lossIn).toBeGreaterThan(0);
    expect(after.lossOut - before.lossOut).toBeGreaterThan(0);
    expect(after.dup - before.dup).toBeGreaterThan(0);
  });

  it(`sockstack client -> python3 server: ${(BYTES / 2 ** 20).toFixed(1)} MiB upload, half-close, reply, clean close on both sides`, async () => {
    const server = python(
      net.ns,
      [
        'import socket, hashlib',
        's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
        `s.bind(('${net.linux}', 9001)); s.listen(1); print('listening', flush=True)`,
        'c, _ = s.accept(); h = hashlib.sha256(); n = 0',
        'while True:',
        '    d = c.recv(1 << 16)',
        '    if not d: break',
        '    h.update(d); n += len(d)',
        "c.sendall(f'{h.hexdigest()} {n}\\n'.encode()); c.shutdown(socket.SHUT_WR)",
        // Our side closes after reading the reply: Linux must see a clean EOF, not a reset.
        "print('eof' if c.recv(1) == b'' else 'data', flush=True); c.close()",
      ].join('\n'),
    );
    const done = collect(server);
    await waitForLine(server, /listening/);
    const sys = net.stack.sys;
    const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
    await sys.connect(fd, { address: net.linux, port: 9001 });
    await writeAll(sys, fd, file);
    sys.shutdown(fd, C.SHUT_WR);
    const buf = new Uint8Array(256);
    let reply = '';
    for (;;) {
      const n = await sys.read(fd, buf);
      if (n === 0) break;
      reply += Buffer.from(buf.subarray(0, n)).toString('utf8');
    }
    sys.close(fd);
    expect(reply).toBe(`${sha256(file)} ${BYTES}\n`);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('eof');
  });
});
