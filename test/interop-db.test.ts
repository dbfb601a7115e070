// Real clients against real servers through the TUN link (issue 8): the npm
// `pg` client against PostgreSQL 15 and `ioredis` against redis-server, both
// servers started by this test inside its network namespace, both clients
// unchanged and running over a sockstack Stack through createNet(stack): pg
// through its `stream` option, ioredis through its `Connector` option.
// The README examples (examples/api-pg.ts, examples/api-ioredis.ts) run here
// too, as their own processes on a second TUN device in the same namespace.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AbstractConnector, Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createNet } from '../src/node/net.js';
import type { Net } from '../src/node/net.js';
import { dbServersUnavailable, startPostgres, startRedis } from './helpers/db-servers.js';
import type { DbServer } from './helpers/db-servers.js';
import { canUseNetns, describeWithNetns, uniqueTunName } from './helpers/netns.js';
import type { Availability } from './helpers/netns.js';
import { createInteropNet, patternBytes } from './interop-helpers.js';
import type { InteropNet } from './interop-helpers.js';

function gate(): Availability {
  const netns = canUseNetns(['python3']);
  if (!netns.ok) return netns;
  const missing = dbServersUnavailable();
  return missing === undefined ? netns : { ok: false, reason: missing };
}

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = `${root}node_modules/.bin/tsx`;
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** A string of `length` printable characters, the same every run. */
function text(length: number, seed: number): string {
  return Buffer.from(patternBytes(Math.ceil((length * 3) / 4), seed))
    .toString('base64')
    .slice(0, length);
}

describeWithNetns('interop: pg and ioredis over sockstack against PostgreSQL and redis-server', gate(), () => {
  let net: InteropNet;
  let sockNet: Net;
  let postgres: DbServer | undefined;
  let redis: DbServer | undefined;
  // The examples' TUN device (a persistent one, created in the namespace) and addresses.
  const exampleDev = uniqueTunName();
  let exampleLinux = '';
  let exampleSock = '';

  beforeAll(async () => {
    net = await createInteropNet({ seed: 8 });
    sockNet = createNet(net.stack);
    exampleLinux = net.linux.replace(/^10\.98\./, '10.97.');
    exampleSock = net.sock.replace(/^10\.98\./, '10.97.');
    net.ns.ip('tuntap', 'add', 'dev', exampleDev, 'mode', 'tun');
    net.ns.execSync('sysctl', ['-q', '-w', `net.ipv6.conf.${exampleDev}.disable_ipv6=1`]);
    net.ns.ip('addr', 'add', `${exampleLinux}/24`, 'dev', exampleDev);
    net.ns.ip('link', 'set', 'dev', exampleDev, 'up');
    const listen = [net.linux, exampleLinux];
    [postgres, redis] = await Promise.all([
      startPostgres(net.ns, { listen, trust: [`${net.sock}/32`, `${exampleSock}/32`] }),
      startRedis(net.ns, { listen }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([postgres?.stop(), redis?.stop()]);
    net?.close(); // the namespace, and the example device in it
  }, 30_000);

  it('pg: connects over a sockstack socket, creates, inserts with parameters, selects, moves ~1 MB each way, ends cleanly', async () => {
    const client = new pg.Client({
      host: net.linux,
      port: postgres!.port,
      user: 'postgres',
      database: 'postgres',
      // pg's documented hook: a function returning the (unconnected) socket to use; pg calls connect(port, host) on it.
      stream: () => new sockNet.Socket(),
    });
    let ended = false;
    client.on('end', () => (ended = true));
    await client.connect();
    try {
      const server = await client.query<{ version: string; addr: string }>('SELECT version(), inet_client_addr()::text AS addr');
      expect(server.rows[0]?.version).toMatch(/^PostgreSQL 15\./);
      // The server saw our stack's address: the connection really went through the TUN link.
      expect(server.rows[0]?.addr).toBe(`${net.sock}/32`);

      await client.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty integer NOT NULL, body text)');
      const names = ['alpha', 'beta', "gamma's", 'δέλτα'];
      for (const [i, name] of names.entries()) {
        const r = await client.query<{ id: number }>('INSERT INTO items (name, qty) VALUES ($1, $2) RETURNING id', [name, i * 10 + 1]);
        expect(r.rows[0]?.id).toBe(i + 1);
      }
      const sel = await client.query<{ id: number; name: string; qty: number }>('SELECT id, name, qty FROM items WHERE qty > $1 ORDER BY id', [5]);
      expect(sel.rows).toEqual([
        { id: 2, name: 'beta', qty: 11 },
        { id: 3, name: "gamma's", qty: 21 },
        { id: 4, name: 'δέλτα', qty: 31 },
      ]);

      // ~1 MB up: one parameter the server must receive whole (it reports its md5 and length).
      const big = text(1 << 20, 81);
      const up = await client.query<{ len: number; sum: string }>('INSERT INTO items (name, qty, body) VALUES ($1, 0, $2) RETURNING length(body) AS len, md5(body) AS sum', [
        'big',
        big,
      ]);
      expect(up.rows[0]).toEqual({ len: big.length, sum: md5(big) });

      // ~1 MB down in many rows, several receive windows' worth; every value checked.
      const rows = 2000;
      const down = await client.query<{ i: number; s: string }>("SELECT i, repeat(chr(65 + i % 26), 500) || ':' || i AS s FROM generate_series(1, $1::int) AS i ORDER BY i", [rows]);
      expect(down.rowCount).toBe(rows);
      down.rows.forEach((r, k) => {
        const i = k + 1;
        if (r.i !== i || r.s !== `${String.fromCharCode(65 + (i % 26)).repeat(500)}:${i}`) throw new Error(`row ${k}: ${JSON.stringify(r).slice(0, 80)}`);
      });
      // And the big value back as one 1 MB field.
      const back = await client.query<{ body: string }>("SELECT body FROM items WHERE name = 'big'");
      expect(back.rows[0]?.body === big).toBe(true);
    } finally {
      await client.end();
    }
    expect(ended).toBe(true);
  }, 30_000);

  it('ioredis: SET/GET, a pipeline of 1000 commands, a ~1 MB value, quit()', async () => {
    // ioredis's documented extension point for how a connection is made: a Connector class.
    const host = net.linux;
    const port = redis!.port;
    class SockstackConnector extends AbstractConnector {
      constructor() {
        super(2000);
      }
      connect(): Promise<Socket> {
        this.connecting = true;
        this.stream = sockNet.connect(port, host) as unknown as Socket;
        return Promise.resolve(this.stream);
      }
    }
    const client = new Redis({ Connector: SockstackConnector, maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
    const errors: Error[] = [];
    client.on('error', (e: Error) => errors.push(e));
    await client.connect();
    try {
      // The server lists our connection under the stack's address.
      expect(await client.client('LIST')).toContain(`addr=${net.sock}:`);
      expect(await client.set('greeting', 'hello over sockstack')).toBe('OK');
      expect(await client.get('greeting')).toBe('hello over sockstack');
      expect(await client.get('missing')).toBeNull();

      const pipeline = client.pipeline();
      for (let i = 0; i < 500; i++) pipeline.set(`k:${i}`, `v:${i * 7}`);
      for (let i = 0; i < 499; i++) pipeline.get(`k:${i}`);
      pipeline.dbsize();
      const results = await pipeline.exec();
      expect(results).toHaveLength(1000);
      results!.forEach(([err, value], n) => {
        if (err !== null) throw err;
        const want = n < 500 ? 'OK' : n < 999 ? `v:${(n - 500) * 7}` : 501; // 500 keys and 'greeting'
        if (value !== want) throw new Error(`pipeline reply ${n}: ${String(value)} != ${String(want)}`);
      });

      const big = Buffer.from(patternBytes(1 << 20, 82));
      expect(await client.set('big', big)).toBe('OK');
      expect(await client.strlen('big')).toBe(big.length);
      const got = await client.getBuffer('big');
      expect(got !== null && got.equals(big)).toBe(true);
    } finally {
      expect(await client.quit()).toBe('OK');
    }
    expect(errors).toEqual([]);
  }, 30_000);

  // The README's examples, run as a user would: their own process (in the namespace, where the device is).
  for (const [file, want] of [
    ['api-pg.ts', /greeting: 'hello over sockstack', n: 42/],
    ['api-ioredis.ts', /^hello over sockstack 21$/m],
  ] as const) {
    it(`examples/${file} runs against the real server`, async () => {
      const r = await net.ns.run(tsx, [`${root}examples/${file}`, exampleDev, `${exampleSock}/24`, exampleLinux], { timeoutMs: 30_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(want);
    }, 40_000);
  }

  it('no client connection broke: the servers logged no EOF or reset from a client', () => {
    // A client that vanished without its protocol's goodbye (pg Terminate, redis QUIT), or a reset, is logged by the server.
    expect(postgres!.log()).not.toMatch(/unexpected EOF|could not receive data|connection reset|could not send data/i);
    expect(postgres!.log()).toMatch(/database system is ready/);
    expect(redis!.log()).not.toMatch(/error|reset/i);
  });
});
