/**
 * For tests that watch or alter what one stack's link sees: a Link that
 * hands everything through to `inner`. Subclasses override the calls they
 * care about (send, setReceiver...). The optional calls (setBatchEnd,
 * setRecycler) are left out on purpose: a link that has them promises batch
 * ends or takes frames back, so a subclass adds them only when it passes
 * them through. Test-only (excluded from the build as
 * *.fixtures.ts).
 */
import type { FrameHandler, Link } from './link.js';

export class PassThroughLink implements Link {
  constructor(readonly inner: Link) {}
  get linkType(): Link['linkType'] {
    return this.inner.linkType;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get mac(): number {
    // Memory links are Ethernet links: they always have one.
    return this.inner.mac ?? 0;
  }
  get trusted(): boolean {
    return this.inner.trusted === true;
  }
  send(frame: Uint8Array): void {
    this.inner.send(frame);
  }
  setReceiver(handler: FrameHandler | undefined): void {
    this.inner.setReceiver(handler);
  }
  close(): void {
    this.inner.close();
  }
}
