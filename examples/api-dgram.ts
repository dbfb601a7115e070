/**
 * The Node `dgram` drop-in: `createDgram(stack)` is Node's dgram over a
 * sockstack host. `npx tsx examples/api-dgram.ts`
 */
import { Stack, MemoryNetwork, createDgram } from '../src/node.js';

const lan = new MemoryNetwork({ seed: 1 });
const a = new Stack({ seed: 1 });
a.addInterface(lan.attach(), { address: '10.0.0.1/24' });
const b = new Stack({ seed: 2 });
b.addInterface(lan.attach(), { address: '10.0.0.2/24' });

// A server that answers each datagram in upper case.
const server = createDgram(a).createSocket('udp4', (msg, rinfo) => {
  console.log(`server got "${msg.toString()}" from ${rinfo.address}:${rinfo.port}`);
  server.send(msg.toString().toUpperCase(), rinfo.port, rinfo.address);
});
server.bind(5353, () => {
  const client = createDgram(b).createSocket('udp4', (msg) => {
    console.log(`client got "${msg.toString()}"`);
    client.close();
    server.close();
    a.close();
    b.close();
  });
  client.send('hello, dgram', 5353, '10.0.0.1');
});
