/**
 * Two hosts on one examples/tcp-net.ts LAN and a connected TCP socket pair
 * between them, for the stream-socket tests (excluded from the build as *.fixtures.ts).
 */
import { lan } from '../../examples/tcp-net.js';
import type { Host, Lan, LanOptions } from '../../examples/tcp-net.js';
import { constants as C } from '../syscall/constants.js';
import { Duration } from '../time/duration.js';

export function pair(opts: LanOptions = {}): { net: Lan; a: Host; b: Host } {
  const net = lan(opts);
  return { net, a: net.hosts[0]!, b: net.hosts[1]! };
}

/** A connected pair: client fd on b, accepted fd on a; `before` configures the listener (options are inherited). */
export async function connected(a: Host, b: Host, port = 7000, before?: (lfd: number) => void): Promise<{ lfd: number; srv: number; cli: number }> {
  const lfd = a.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  a.sys.setsockopt(lfd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  before?.(lfd);
  a.sys.bind(lfd, { address: C.INADDR_ANY, port });
  a.sys.listen(lfd, 5);
  const cli = b.sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  const acc = a.sys.accept(lfd);
  await b.sys.connect(cli, { address: a.address, port });
  const { fd: srv } = await acc;
  return { lfd, srv, cli };
}

export const sleep = (net: Lan, ms: number): Promise<void> => net.clock.sleep(Duration.fromMillis(ms));
