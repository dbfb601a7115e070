/**
 * Real database servers for interop tests, started inside a network
 * namespace the test created (netns-core.ts): PostgreSQL 15 (Debian's
 * binaries) and redis-server, each listening only on the addresses given,
 * with all of their state in a temporary directory that stop() removes.
 *
 * PostgreSQL refuses to run as root, so its directory is handed to the
 * `postgres` user and the server runs as that user through `setpriv`, which
 * execs (no process in between), so the ChildProcess we hold is the
 * postmaster itself and a signal to it is a clean shutdown request.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from './netns-core.js';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

/** Why these servers cannot run here, or undefined when they can. */
export function dbServersUnavailable(): string | undefined {
  if (!existsSync(join(POSTGRES_BIN, 'postgres')) || !existsSync(join(POSTGRES_BIN, 'initdb'))) {
    return `PostgreSQL 15 is not installed (${POSTGRES_BIN}; Debian package postgresql-15)`;
  }
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'there is no `postgres` user to run PostgreSQL as';
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) return 'redis-server is not installed (Debian package redis-server)';
  if (spawnSync('sh', ['-c', 'command -v setpriv']).status !== 0) return 'setpriv (util-linux) is not installed';
  return undefined;
}

export interface DbServer {
  readonly host: string;
  readonly port: number;
  /** Everything the server logged so far (stdout and stderr), for failure messages. */
  log(): string;
  /** Asks the server to shut down, waits for it (then kills it), and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

function idOf(flag: '-u' | '-g', user: string): number {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isInteger(n)) throw new Error(`id ${flag} ${user} failed: ${r.stderr}`);
  return n;
}

/** Runs a command to completion without blocking the event loop; rejects with its output on failure. */
function runToEnd(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}:\n${out}`));
    });
  });
}

/**
 * Watches a server process: resolves when its output matches `ready`,
 * rejects when it exits first or after `timeoutMs`. Returns the log getter
 * and a stop() that sends `signal`, waits up to 10 s, then SIGKILLs.
 */
async function supervise(
  child: ChildProcess,
  what: string,
  ready: RegExp,
  signal: NodeJS.Signals,
  cleanup: () => void,
  timeoutMs = 30_000,
): Promise<{ log(): string; stop(): Promise<void> }> {
  let log = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.on('close', () => {
      exited = true;
      resolve();
    });
    child.on('error', () => {
      exited = true;
      resolve();
    });
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (!exited) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(timer);
      }
      cleanup();
    })());
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${log}`)), timeoutMs);
      const onData = (d: string): void => {
        log += d;
        if (ready.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.setEncoding('utf8').on('data', onData);
      child.stderr?.setEncoding('utf8').on('data', onData);
      void exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`${what} exited before it was ready:\n${log}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { log: () => log, stop };
}

export interface PostgresOptions {
  /** Addresses in `ns` to listen on (listen_addresses); nothing else. */
  readonly listen: readonly string[];
  /** Client networks allowed in with trust authentication (pg_hba.conf), e.g. '10.98.7.2/32'. */
  readonly trust: readonly string[];
  readonly port?: number;
}

/**
 * initdb into a fresh temporary directory owned by `postgres`, then runs the
 * server in `ns` as that user. Its unix socket goes to that directory too.
 * User `postgres`, database `postgres`, trust authentication for `trust`.
 */
export async function startPostgres(ns: Netns, options: PostgresOptions): Promise<DbServer> {
  const port = options.port ?? 5432;
  const dir = mkdtempSync(join(tmpdir(), 'sockstack-pg-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    chownSync(dir, idOf('-u', 'postgres'), idOf('-g', 'postgres'));
    const data = join(dir, 'data');
    const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups', '--'];
    // initdb needs no network: it runs in the root namespace, before the server exists.
    await runToEnd('setpriv', [...asPostgres, join(POSTGRES_BIN, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    writeFileSync(
      join(data, 'pg_hba.conf'),
      ['# written by the sockstack interop test', 'local all all trust', ...options.trust.map((net) => `host all all ${net} trust`), ''].join('\n'),
    );
    const child = ns.spawn(
      'setpriv',
      [
        ...asPostgres,
        join(POSTGRES_BIN, 'postgres'),
        '-D',
        data,
        '-p',
        String(port),
        '-c',
        `listen_addresses=${options.listen.join(',')}`,
        '-c',
        `unix_socket_directories=${dir}`,
        // A throwaway database: durability costs time and buys nothing here.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // SIGINT: PostgreSQL's "fast shutdown" (roll back open transactions, close connections, exit).
    const s = await supervise(child, 'postgres', /database system is ready to accept connections/, 'SIGINT', remove);
    return { host: options.listen[0] ?? '', port, ...s };
  } catch (e) {
    remove();
    throw e;
  }
}

export interface RedisOptions {
  /** Addresses in `ns` to bind to; nothing else. */
  readonly listen: readonly string[];
  readonly port?: number;
}

/** redis-server in `ns`: no persistence, no config file, its working directory a fresh temporary one. */
export async function startRedis(ns: Netns, options: RedisOptions): Promise<DbServer> {
  const port = options.port ?? 6379;
  const dir = mkdtempSync(join(tmpdir(), 'sockstack-redis-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const child = ns.spawn(
      'redis-server',
      [
        '--bind',
        ...options.listen,
        '--port',
        String(port),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // SIGTERM: redis-server's clean shutdown (it would save here, but there is nothing to save to).
    const s = await supervise(child, 'redis-server', /Ready to accept connections/, 'SIGTERM', remove);
    return { host: options.listen[0] ?? '', port, ...s };
  } catch (e) {
    remove();
    throw e;
  }
}
