/**
 * Network namespaces for vitest files: everything of ./netns-core.ts (which
 * bench/ shares and which must not import vitest), plus the vitest glue:
 * `describeWithNetns` and namespaces removed in the test file's afterAll.
 *
 *   const gate = canUseNetns(['curl']);
 *   describeWithNetns('tun', gate, () => { ... });
 *   const ns = createNetns();            // ss-<pid>-<n>
 *   ns.adoptLink(link.name, { address: '10.99.0.1/24' });
 *   const r = await ns.run('ping', ['-c', '3', '10.99.0.2']);
 *   ns.destroy();                         // also done at afterAll / exit
 */
import { afterAll, describe, it } from 'vitest';
import { createNetns as createNetnsCore, destroyAllNetns } from './netns-core.js';
import type { Availability, Netns } from './netns-core.js';

export { canUseNetns, destroyAllNetns, Netns, uniqueTunName } from './netns-core.js';
export type { AdoptOptions, Availability, RunResult } from './netns-core.js';

let afterAllInstalled = false;

/** Creates a fresh namespace (see netns-core.ts); the test file's afterAll removes every one left. */
export function createNetns(): Netns {
  if (!afterAllInstalled) {
    afterAllInstalled = true;
    // After the test file's own afterAll hooks, which may still use them.
    afterAll(() => destroyAllNetns());
  }
  return createNetnsCore();
}

/**
 * `describe(name, body)` when namespaces are usable. Otherwise prints why and
 * registers one skipped test, or, under CI=true, one FAILING test that says
 * what is missing: CI must run these, never pass them silently.
 */
export function describeWithNetns(name: string, gate: Availability, body: () => void): void {
  if (gate.ok) {
    describe(name, body);
    return;
  }
  const reason = gate.reason;
  describe(name, () => {
    if (process.env.CI === 'true') {
      it('needs network namespaces', () => {
        throw new Error(`cannot run real-network tests: ${reason}. CI must run them (as root, with /dev/net/tun).`);
      });
    } else {
      console.warn(`[${name}] SKIPPED: ${reason}.`);
      it.skip(`SKIPPED: ${reason}`, () => undefined);
    }
  });
}
