import { describe, expect, it } from 'vitest';
import { demo } from './tcp-chat.js';

describe('examples/tcp-chat', () => {
  it('relays lines between three clients, with joins and leaves, the same way every run', async () => {
    const first = await demo();
    expect(first).toEqual([
      'alice heard: * bob joined',
      'alice heard: <bob> hey alice',
      'alice heard: * carol joined',
      'alice heard: <carol> late again',
      'alice heard: <bob> fine, thanks',
      'bob heard: <alice> hi all',
      'bob heard: * carol joined',
      'bob heard: <alice> how are you?',
      'bob heard: <carol> late again',
      'bob heard: * alice left',
      'bob heard: * carol left',
      'carol heard: <alice> how are you?',
      'carol heard: <bob> fine, thanks',
      'carol heard: * alice left',
    ]);
    expect(await demo()).toEqual(first);
  });
});
