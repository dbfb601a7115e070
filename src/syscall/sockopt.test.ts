import { describe, expect, it } from 'vitest';
import { Stack } from '../stack/stack.js';
import { ManualClock } from '../time/manual-clock.js';
import { constants as C } from './constants.js';
import { isSocketError } from '../errno/socket-error.js';
import { pmtuDiscLearns, pmtuDiscSetsDf } from './sockopt.js';

describe('IP_MTU_DISCOVER (ip(7), Linux values)', () => {
  for (const [name, type] of [
    ['TCP', C.SOCK_STREAM],
    ['UDP', C.SOCK_DGRAM],
  ] as const) {
    it(`${name}: defaults to IP_PMTUDISC_WANT, takes DONT..OMIT, refuses anything else with EINVAL`, () => {
      const stack = new Stack({ clock: new ManualClock(), seed: 1 });
      const sys = stack.sys;
      const fd = sys.socket(C.AF_INET, type, 0);
      expect(sys.getsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER)).toBe(C.IP_PMTUDISC_WANT);
      for (const v of [C.IP_PMTUDISC_DONT, C.IP_PMTUDISC_DO, C.IP_PMTUDISC_PROBE, C.IP_PMTUDISC_INTERFACE, C.IP_PMTUDISC_OMIT]) {
        sys.setsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER, v);
        expect(sys.getsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER)).toBe(v);
      }
      for (const bad of [-1, 6]) {
        let err: unknown;
        try {
          sys.setsockopt(fd, C.IPPROTO_IP, C.IP_MTU_DISCOVER, bad);
        } catch (e) {
          err = e;
        }
        expect(isSocketError(err) && err.code).toBe('EINVAL');
      }
      stack.close();
    });
  }

  it('which modes set DF and which learn a smaller path MTU (Linux ip_dont_fragment, ip_sk_accept_pmtu)', () => {
    expect([0, 1, 2, 3, 4, 5].map(pmtuDiscSetsDf)).toEqual([false, true, true, true, false, false]);
    expect([0, 1, 2, 3, 4, 5].map(pmtuDiscLearns)).toEqual([false, true, true, false, false, false]);
  });
});
