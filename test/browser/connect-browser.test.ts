/**
 * Issue 8, "the web API in a real browser": the core package (src/index.ts,
 * never sockstack/node) bundled by esbuild for the browser, loaded into
 * headless Chromium (Debian's chromium through playwright-core), where two
 * Stacks on a MemoryNetwork exchange data over the WinterTC `connect()`.
 *
 * The page lives at a made-up http://127.0.0.1/ origin that playwright
 * fulfils from memory (a localhost origin is a secure context, so
 * crypto.subtle exists; about:blank from setContent is not one). Every other
 * request is aborted and recorded: the browser reaches no address at all.
 *
 * One browser for the file (vitest runs files in parallel forks).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { SeededRng, fillRandom } from '../../src/index.js';
import { bundlePage } from './bundle.js';
import type { PageBundle } from './bundle.js';
import type { PageHook } from './page-entry.js';
import { runConnectScenario } from './scenario.js';
import type { ScenarioParams, ScenarioResult } from './scenario.js';

/**
 * The Chromium to drive. The real binary first: Debian's /usr/bin/chromium is
 * a shell wrapper that execs it (both work with playwright here, the binary
 * skips the wrapper's flag files). SOCKSTACK_CHROMIUM overrides.
 */
function findChromium(): string | undefined {
  const candidates = [
    process.env.SOCKSTACK_CHROMIUM,
    '/usr/lib/chromium/chromium',
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome-stable',
    '/usr/bin/google-chrome',
  ];
  for (const c of candidates) {
    if (c === undefined || c === '') continue;
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      // Not there: try the next one.
    }
  }
  return undefined;
}

const ORIGIN = 'http://127.0.0.1';
const PAGE_URL = `${ORIGIN}/connect.html`;
const SCRIPT_URL = `${ORIGIN}/sockstack-page.js`;
const HTML = `<!doctype html><meta charset="utf-8"><title>sockstack connect()</title><script type="module" src="/sockstack-page.js"></script>`;

const chromiumPath = findChromium();
if (chromiumPath === undefined) {
  console.warn(
    '[connect-browser] SKIPPED: no Chromium found (tried SOCKSTACK_CHROMIUM, /usr/lib/chromium/chromium, /usr/bin/chromium, ...); install Debian\'s "chromium" package',
  );
}

function nodeSha256(seed: number, size: number): string {
  const data = new Uint8Array(size);
  fillRandom(new SeededRng(seed), data);
  return createHash('sha256').update(data).digest('hex');
}

/** A result without the fields that legitimately differ between runs and runtimes. */
function comparable(r: ScenarioResult): unknown {
  const { runtime: _runtime, bulk, ...rest } = r;
  const { ms: _ms, ...bulkRest } = bulk;
  return { ...rest, bulk: bulkRest };
}

describe('connect() bundle for the browser', () => {
  it('bundles src/index.ts with no Node-only import (esbuild, platform browser)', async () => {
    const bundle = await bundlePage();
    // The problems list is esbuild's own message, e.g. 'Could not resolve "node:fs"', with file:line.
    expect(bundle.problems).toEqual([]);
    expect(bundle.code.length).toBeGreaterThan(10_000);
    expect(bundle.inputs).toContain('src/index.ts');
    expect(bundle.inputs).toContain('src/api/connect.ts');
    expect(bundle.inputs.filter((i) => !i.startsWith('src/')).sort()).toEqual([
      'test/browser/page-entry.ts',
      'test/browser/scenario.ts',
    ]);
    // The page's own files import the core through its public entry only.
    expect(bundle.pageImports).toEqual({
      'test/browser/page-entry.ts': ['test/browser/scenario.ts'],
      'test/browser/scenario.ts': ['src/index.ts'],
    });
  });

  it('the checker fails on a node: import, a bare Node builtin and the Node entry point', async () => {
    const nodeImport = await bundlePage(undefined, { stdin: "import { readFileSync } from 'node:fs'; console.log(readFileSync);" });
    expect(nodeImport.code).toBe('');
    expect(nodeImport.problems.join('\n')).toMatch(/Could not resolve "node:fs"/);
    const bare = await bundlePage(undefined, { stdin: "import { EventEmitter } from 'events'; console.log(EventEmitter);" });
    expect(bare.problems.join('\n')).toMatch(/Could not resolve "events"/);
    const nodeEntry = await bundlePage(undefined, { stdin: "import { openTun } from '../../src/node.js'; console.log(openTun);" });
    expect(nodeEntry.problems.join('\n')).toMatch(/src\/link\/tun\/.*Could not resolve "node:/);
  });
});

describe.skipIf(chromiumPath === undefined)('connect() in headless Chromium', () => {
  let browser: Browser | undefined;
  let page: Page | undefined;
  let bundle: PageBundle | undefined;
  /** Requests for anything but our two in-memory files: aborted, and must stay empty. */
  const strayRequests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const executablePath = chromiumPath;
    if (executablePath === undefined) return;
    bundle = await bundlePage();
    if (bundle.problems.length > 0) throw new Error(`the page does not bundle for the browser:\n${bundle.problems.join('\n')}`);
    const code = bundle.code;
    browser = await chromium.launch({
      executablePath,
      headless: true,
      // Root in a container: no sandbox. No name resolves, so nothing could leave even if asked.
      args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND', '--no-proxy-server'],
      timeout: 30_000,
    });
    const context = await browser.newContext();
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === PAGE_URL) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: HTML });
      if (url === SCRIPT_URL) return route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: code });
      strayRequests.push(url);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
    });
    await page.goto(PAGE_URL);
    await page.waitForFunction(() => (globalThis as { __sockstack?: unknown }).__sockstack !== undefined, undefined, {
      timeout: 15_000,
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  function run(params: ScenarioParams): Promise<ScenarioResult> {
    if (page === undefined) throw new Error('no page (beforeAll failed)');
    return page.evaluate((p) => (globalThis as unknown as { __sockstack: PageHook }).__sockstack.run(p), params);
  }

  it('the page is a secure context with Web Crypto and streams, and no Node globals', async () => {
    const env = await page!.evaluate(() => {
      const g = globalThis as Record<string, unknown>;
      return {
        secure: g.isSecureContext,
        subtle: typeof crypto.subtle?.digest,
        readableStream: typeof g.ReadableStream,
        messageChannel: typeof g.MessageChannel,
        node: ['process', 'Buffer', 'setImmediate', 'require'].filter((k) => g[k] !== undefined),
        userAgent: String((g.navigator as { userAgent?: unknown } | undefined)?.userAgent),
      };
    });
    expect(env).toMatchObject({ secure: true, subtle: 'function', readableStream: 'function', messageChannel: 'function' });
    // So the scenario cannot pass by leaning on a Node global: there are none.
    expect(env.node).toEqual([]);
    expect(env.userAgent).toMatch(/HeadlessChrome/);
  });

  it('pipes 1 MiB through writable, reads the echo from readable, half-closes, closes, and is refused (real-time clock)', async () => {
    const params: ScenarioParams = { seed: 8, size: 1 << 20, port: 7000 };
    const r = await run(params);
    expect(r.runtime).toBe('browser');
    expect(r.clock).toBe('system');

    // The bulk echo: every byte back, in order; hashes by crypto.subtle in the page and node:crypto here.
    const expectedSha = nodeSha256(params.seed, params.size);
    expect(r.bulk).toMatchObject({
      opened: { remoteAddress: '10.0.0.1:7000' },
      sent: params.size,
      received: params.size,
      serverEchoed: params.size,
      equal: true,
      sentSha256: expectedSha,
      receivedSha256: expectedSha,
      closed: 'resolved',
    });
    expect(r.bulk.opened.localAddress).toMatch(/^10\.0\.0\.2:\d+$/);
    expect(r.bulk.chunks).toBeGreaterThan(10);

    // Half-close: our FIN, then the server still answers and we read it.
    expect(r.halfCloseClient).toEqual({ serverGot: 'question', clientGot: 'reply to question', closed: 'resolved' });
    // allowHalfOpen: the server's FIN first, then we still write.
    expect(r.halfOpenPeerFirst).toEqual({
      clientGot: 'server first',
      serverGotAfterItsFin: 'client after server FIN',
      closed: 'resolved',
    });
    // Default allowHalfOpen false: the peer's FIN ends our writable.
    expect(r.peerFinClosesWritable.clientSawEof).toBe(true);
    expect(r.peerFinClosesWritable.writeAfterPeerFin).toMatch(/^rejected: SocketError: /);
    expect(r.peerFinClosesWritable.closed).toBe('resolved');
    // close(): FIN to the server, closed resolves and is what close() returned.
    expect(r.closeCall).toMatchObject({ serverSawEof: true, closeReturnsClosed: true, closed: 'resolved' });
    expect(r.closeCall.readAfterClose).toMatch(/^rejected: /);
    expect(r.objectAddress).toEqual({ remoteAddress: '10.0.0.1:7000', echoed: 'object form' });
    // Refused: opened and closed reject with ECONNREFUSED, the readable errors, no fd leaks.
    expect(r.refused).toEqual({
      opened: 'rejected: ECONNREFUSED',
      openedCode: 'ECONNREFUSED',
      openedSyscall: 'connect',
      closed: 'rejected: ECONNREFUSED',
      readable: 'rejected: ECONNREFUSED',
      clientFdsLeft: 0,
    });
    expect(r.malformed.threw).toBe(true);
    expect(r.malformed.isTypeError).toBe(true);
    expect(r.malformed.message).toMatch(/^SocketError: /);
    expect(r.fdsLeft).toEqual({ server: 0, client: 0 });
    console.log(`[connect-browser] 1 MiB echo in Chromium (SystemClock): ${r.bulk.ms} ms, ${r.bulk.chunks} chunks`);
  });

  it('on a VirtualClock the browser run equals the Node run, field for field', async () => {
    const params: ScenarioParams = { seed: 21, size: 1 << 20, port: 8080, clock: 'virtual' };
    const inBrowser = await run(params);
    const inNode = await runConnectScenario(params);
    expect(inBrowser.runtime).toBe('browser');
    expect(inBrowser.bulk.receivedSha256).toBe(nodeSha256(params.seed, params.size));
    expect(comparable(inBrowser)).toEqual(comparable(inNode));
    console.log(`[connect-browser] 1 MiB echo in Chromium (VirtualClock): ${inBrowser.bulk.ms} ms`);
  });

  it('raised no page error and requested nothing beyond the page', () => {
    expect(pageErrors).toEqual([]);
    expect(strayRequests).toEqual([]);
  });
});
