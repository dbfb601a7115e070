import { describe, expect, it } from 'vitest';
import { ManualClock } from '../time/manual-clock.js';
import type { FrameHandler, Link } from './link.js';
import { LinkType } from './link.js';
import { linkConformanceCases } from './link-conformance.js';
import type { LinkPair } from './link-conformance.js';

/** A deliberately broken loopback: each flaw should fail its own case, proving the suite can fail. */
class FlawedLink implements Link {
  readonly linkType = LinkType.RawIp;
  readonly mtu = 1500;
  receiver: FrameHandler | undefined;
  constructor(
    readonly clock: ManualClock,
    readonly flaw: 'sync' | 'no-mtu' | 'send-after-close' | 'shared-buffer' | 'keeps-old-receiver',
  ) {}
  #closed = false;
  #shared = new Uint8Array(0);
  send(frame: Uint8Array): void {
    if (this.#closed && this.flaw !== 'send-after-close') return;
    if (frame.length > this.mtu && this.flaw !== 'no-mtu') return;
    if (this.flaw === 'sync') {
      this.receiver?.(frame);
      return;
    }
    let out = frame;
    if (this.flaw === 'shared-buffer') {
      // Reuses one receive buffer for every frame: the receiver's copy gets overwritten.
      if (this.#shared.length < frame.length) this.#shared = new Uint8Array(frame.length);
      out = this.#shared.subarray(0, frame.length);
    }
    this.clock.setTimer(this.clock.now(), () => {
      if (this.flaw === 'shared-buffer') out.set(frame);
      this.receiver?.(out);
    });
  }
  setReceiver(handler: FrameHandler | undefined): void {
    if (this.flaw === 'keeps-old-receiver' && this.receiver !== undefined) return;
    this.receiver = handler;
  }
  close(): void {
    this.#closed = true;
  }
}

async function failures(flaw: FlawedLink['flaw']): Promise<string[]> {
  const failed: string[] = [];
  const cases = linkConformanceCases((): LinkPair => {
    const clock = new ManualClock();
    const link = new FlawedLink(clock, flaw);
    return { sender: link, receiver: link, flush: () => void clock.runUntilIdle() };
  });
  for (const c of cases) {
    try {
      await c.run();
    } catch (e) {
      expect((e as Error).name).toBe('LinkConformanceError');
      failed.push(c.name);
    }
  }
  return failed;
}

describe('link conformance suite', () => {
  it('catches synchronous delivery', async () => {
    expect(await failures('sync')).toContain('never delivers synchronously inside send()');
  });
  it('catches a link that does not enforce its MTU', async () => {
    expect(await failures('no-mtu')).toEqual(['enforces the MTU: a packet of mtu bytes passes, mtu + 1 is dropped']);
  });
  it('catches delivery after close', async () => {
    expect(await failures('send-after-close')).toEqual(['drops frames sent after close, and close is idempotent']);
  });
  it('catches delivered frames that share memory', async () => {
    expect(await failures('shared-buffer')).toContain('a delivered frame belongs to the receiver: changing it affects no other frame');
  });
  it('catches a setReceiver that does not replace', async () => {
    expect(await failures('keeps-old-receiver')).toEqual(['setReceiver replaces the receiver; undefined detaches it']);
  });
});
