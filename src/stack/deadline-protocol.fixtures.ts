/**
 * For the stack scheduling tests: a transport whose deadline the test sets
 * and which does nothing else. It does not watch its deadline
 * (TransportProtocol.watchDeadline), so the stack asks it every time, as it
 * asks TCP. Test-only (excluded from the build as *.fixtures.ts).
 */
import type { Instant } from '../time/instant.js';
import type { IpSender, TransportProtocol } from './transport.js';

export class DeadlineProtocol implements TransportProtocol {
  readonly protocol = 253;
  at: Instant | undefined = undefined;
  input(): void {}
  icmpError(): void {}
  poll(_now: Instant, _out: IpSender): void {}
  pollAt(): Instant | undefined {
    return this.at;
  }
}
