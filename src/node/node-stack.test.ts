import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, Stack } from '../node.js';
import { Stack as CoreStack } from '../index.js';

describe('Stack from sockstack/node', () => {
  it('is a core Stack with stack.net and stack.dgram bound to it', async () => {
    const lan = new MemoryNetwork({ seed: 3 });
    const a = new Stack({ seed: 1 });
    a.addInterface(lan.attach(), { address: '10.0.0.1/24' });
    const b = new Stack({ seed: 2 });
    b.addInterface(lan.attach(), { address: '10.0.0.2/24' });
    expect(a).toBeInstanceOf(CoreStack);
    expect(a.net).toBe(a.net);
    expect(a.dgram).toBe(a.dgram);
    expect(a.net).not.toBe(b.net);

    const server = a.net.createServer((s) => s.pipe(s));
    server.listen(7);
    await once(server, 'listening');
    const client = b.net.connect(7, '10.0.0.1');
    client.end('over stack.net');
    let echoed = '';
    client.setEncoding('utf8').on('data', (d: string) => (echoed += d));
    await once(client, 'close');
    expect(echoed).toBe('over stack.net');
    expect(client.localAddress).toBe('10.0.0.2');

    const rx = a.dgram.createSocket('udp4');
    rx.bind(53);
    await once(rx, 'listening');
    const tx = b.dgram.createSocket('udp4');
    tx.send('over stack.dgram', 53, '10.0.0.1');
    const [msg, rinfo] = (await once(rx, 'message')) as [Uint8Array, { address: string }];
    expect(new TextDecoder().decode(msg)).toBe('over stack.dgram');
    expect(rinfo.address).toBe('10.0.0.2');
    rx.close();
    tx.close();
    server.close();
    a.close();
    b.close();
  });
});
