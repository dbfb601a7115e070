/**
 * `ioredis`, unchanged, over sockstack on a TUN device: its `Connector` option
 * names the class that opens the connection; ours opens a sockstack socket.
 *   npx tsx examples/api-ioredis.ts tun0 10.0.0.2/24 10.0.0.1   # tun0 set up as in examples/api-pg.ts
 */
import type { Socket } from 'node:net';
import { AbstractConnector, Redis } from 'ioredis';
import { Stack } from '../src/index.js';
import { createNet, openTun } from '../src/node.js';

const [device = 'tun0', address = '10.0.0.2/24', host = process.env.REDIS_HOST ?? '10.0.0.1'] = process.argv.slice(2);
const stack = new Stack();
stack.addInterface(await openTun(device), { address });
const net = createNet(stack);

class SockstackConnector extends AbstractConnector {
  constructor() {
    super(2000); // ms to wait for a clean close before destroying the socket
  }
  connect(): Promise<Socket> {
    this.connecting = true;
    // A stream.Duplex with net.Socket's methods and events; not a net.Socket by type.
    this.stream = net.connect(6379, host) as unknown as Socket;
    return Promise.resolve(this.stream);
  }
}

const redis = new Redis({ Connector: SockstackConnector });
await redis.set('greeting', 'hello over sockstack');
console.log(await redis.get('greeting'), await redis.incrby('counter', 21));
await redis.quit();
stack.close();
