/**
 * `sockstack serve`: a Stack on a Linux TUN device with an echo service and
 * an HTTP file server, so anyone can reach sockstack with curl:
 *
 *   sudo npx sockstack serve --tun sock0 --address 10.77.0.2/24 --http 80 --echo 7
 *   # in another shell: give the Linux end an address, then curl
 *   sudo ip addr add 10.77.0.1/24 dev sock0 && sudo ip link set sock0 up
 *   curl http://10.77.0.2/README.md
 *
 * Logs one line per event to stdout; SIGINT/SIGTERM close the services, the
 * stack (and through it the TUN device) and the pcap file, then exit 0.
 */
import { LinkType } from '../link/link.js';
import type { Link } from '../link/link.js';
import { PcapLink } from '../link/pcap-link.js';
import { openTun } from '../link/tun/index.js';
import { createPcapFile } from '../node/pcap-file.js';
import type { PcapFileHandle } from '../node/pcap-file.js';
import { Stack } from '../stack/stack.js';
import { SystemClock } from '../time/system-clock.js';
import { serveEcho, serveHttp } from './serve-services.js';
import type { Logger, Service } from './serve-services.js';

export interface ServeOptions {
  readonly tun: string;
  /** The stack's address and prefix, e.g. '10.77.0.2/24'. */
  readonly address: string;
  readonly http?: number;
  readonly echo?: number;
  readonly pcap?: string;
  /** The directory the HTTP server serves. Default: the current directory. */
  readonly root: string;
  readonly gateway?: string;
  readonly mtu?: number;
}

export const SERVE_USAGE = `usage: sockstack serve --tun NAME --address A/N [--http PORT] [--echo PORT]
                       [--pcap FILE] [--root DIR] [--gateway A] [--mtu N]

Runs a sockstack host on the Linux TUN device NAME (created if missing; needs
root or CAP_NET_ADMIN) with address A/N. --http serves the files under DIR
(default: the current directory) over HTTP/1.1; --echo runs an echo service
(TCP and UDP). --pcap records every packet. Stop with Ctrl-C.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new UsageError(`${flag} needs a port number 1..65535, not '${v}'`);
  return n;
}

/** Parses `serve`'s arguments (after the subcommand); throws UsageError on anything wrong. */
export function parseServeArgs(argv: readonly string[]): ServeOptions {
  const o: { -readonly [K in keyof ServeOptions]?: ServeOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--tun':
        o.tun = value();
        break;
      case '--address': {
        const v = value();
        if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(v)) throw new UsageError(`--address needs A.B.C.D/N, not '${v}'`);
        o.address = v;
        break;
      }
      case '--http':
        o.http = port(flag, value());
        break;
      case '--echo':
        o.echo = port(flag, value());
        break;
      case '--pcap':
        o.pcap = value();
        break;
      case '--root':
        o.root = value();
        break;
      case '--gateway':
        o.gateway = value();
        break;
      case '--mtu': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 68 || n > 65535) throw new UsageError(`--mtu needs 68..65535, not '${v}'`);
        o.mtu = n;
        break;
      }
      default:
        throw new UsageError(`unknown argument '${arg}'`);
    }
  }
  if (o.tun === undefined) throw new UsageError('--tun NAME is required');
  if (o.address === undefined) throw new UsageError('--address A/N is required');
  if (o.http === undefined && o.echo === undefined) throw new UsageError('nothing to serve: give --http PORT and/or --echo PORT');
  return { ...o, tun: o.tun, address: o.address, root: o.root ?? '.' };
}

export interface RunningServer {
  readonly stack: Stack;
  readonly services: readonly Service[];
  /** Stops everything: services, stack (and the TUN device), pcap. Idempotent. */
  close(): void;
}

/** Opens the device and starts the services; resolves once they listen. */
export async function startServe(options: ServeOptions, log: Logger): Promise<RunningServer> {
  const tun = await openTun(options.tun, options.mtu === undefined ? {} : { mtu: options.mtu });
  const clock = new SystemClock();
  let pcap: PcapFileHandle | undefined;
  let link: Link = tun;
  try {
    if (options.pcap !== undefined) {
      pcap = createPcapFile(options.pcap, { linkType: LinkType.RawIp });
      link = new PcapLink(tun, { writer: pcap.writer, clock });
    }
  } catch (e) {
    tun.close();
    throw e;
  }
  const stack = new Stack({ clock, checksums: 'always' });
  const services: Service[] = [];
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const s of services) s.close();
    stack.close();
    pcap?.close();
  };
  try {
    stack.addInterface(link, { address: options.address, ...(options.gateway === undefined ? {} : { gateway: options.gateway }) });
    if (options.echo !== undefined) services.push(serveEcho(stack.sys, { port: options.echo, log }));
    if (options.http !== undefined) services.push(serveHttp(stack.sys, { port: options.http, root: options.root, log }));
  } catch (e) {
    close();
    throw e;
  }
  const addr = options.address.split('/')[0]!;
  log(`sockstack: ${options.address} on tun device ${tun.name} (mtu ${tun.mtu})`);
  if (options.echo !== undefined) log(`sockstack: echo on ${addr}:${options.echo} (tcp, udp)`);
  if (options.http !== undefined) log(`sockstack: http on http://${addr}:${options.http}/ serving ${options.root}`);
  if (pcap !== undefined) log(`sockstack: recording to ${options.pcap}`);
  log('sockstack: ready');
  return { stack, services, close };
}

/** The CLI entry: returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(SERVE_USAGE);
    return 0;
  }
  let options: ServeOptions;
  try {
    options = parseServeArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`sockstack serve: ${e.message}\n\n${SERVE_USAGE}`);
    return 2;
  }
  let server: RunningServer;
  try {
    server = await startServe(options, (line) => console.log(line));
  } catch (e) {
    // TunError and SocketError messages say what to do; no stack trace.
    console.error(`sockstack serve: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return new Promise<number>((done) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      console.log(`sockstack: ${sig}, shutting down`);
      server.close();
      done(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
