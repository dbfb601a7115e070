/**
 * A flag the parts of a stack raise when their earliest deadline (pollAt())
 * may have changed, so the stack re-asks them only then (issue 9): it asked
 * every part after every frame, about 22 calls per request/response round
 * trip for deadlines that nearly never move. Linux likewise touches a timer
 * only where its owner changes it (sk_reset_timer, mod_timer), never scans.
 *
 * A part raises it on EVERY change of its pollAt() answer, earlier or
 * later, so the stack's cached answer is exactly the one a fresh walk would
 * give: simulated clocks arm the same instants as before. Raising it when
 * nothing changed only costs a walk.
 */
export class DeadlineWatch {
  /** True: some watched part's pollAt() may differ from the stack's cached answer. */
  changed = true;
}

/**
 * A watched part's end of it: the watch it raises (none until the stack
 * hands one over with `watch`). The neighbour cache, the reassembler, ping
 * and IGMP each keep one.
 */
export class DeadlineWatcher {
  #watch: DeadlineWatch | undefined = undefined;

  /** Raises `w` whenever the part's pollAt() may change from now on (undefined: stop); raised at once. */
  watch(w: DeadlineWatch | undefined): void {
    this.#watch = w;
    if (w !== undefined) w.changed = true;
  }

  /** The part's pollAt() may have changed. */
  raise(): void {
    if (this.#watch !== undefined) this.#watch.changed = true;
  }
}
