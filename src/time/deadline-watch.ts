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
