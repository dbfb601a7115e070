import { describe, expect, it } from 'vitest';
import { demo } from './tcp-echo.js';

describe('examples/tcp-echo', () => {
  it('echoes two concurrent clients, refuses a closed port, and stops cleanly', async () => {
    expect(await demo()).toEqual([
      'alice got: hello',
      'alice got: from alice',
      'bob got: bonjour',
      'bob got: de la part de bob',
      'bob got: !',
      'port 8: connect ECONNREFUSED',
      'server served 2 clients by t=12 ms',
    ]);
  });
});
