/**
 * The Stack that `sockstack/node` exports: the core Stack plus `stack.net`
 * and `stack.dgram`, the Node `net` and `dgram` drop-ins bound to this host.
 *
 * Why a subclass here and not getters on the core Stack: the drop-ins are
 * built on node:stream and node:events, and the core must run in any
 * JavaScript runtime. `import { Stack } from 'sockstack/node'` gives this
 * class; it is still an instance of the core Stack, so everything that takes
 * a core Stack takes it.
 */
import { Stack as CoreStack } from '../stack/stack.js';
import { createDgram } from './dgram.js';
import type { Dgram } from './dgram.js';
import { createNet } from './net.js';
import type { Net } from './net.js';

export class Stack extends CoreStack {
  #net: Net | undefined;
  #dgram: Dgram | undefined;

  /** A Node `net` module whose sockets live on this stack (created on first use, then the same object). */
  get net(): Net {
    return (this.#net ??= createNet(this));
  }

  /** A Node `dgram` module whose sockets live on this stack (created on first use, then the same object). */
  get dgram(): Dgram {
    return (this.#dgram ??= createDgram(this));
  }
}
