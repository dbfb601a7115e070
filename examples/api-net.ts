/**
 * The Node `net` drop-in: `createNet(stack)` is Node's net over a sockstack
 * host, and Node's own `http` runs over it unchanged. `npx tsx examples/api-net.ts`
 */
import * as http from 'node:http';
import { Stack, MemoryNetwork, createNet } from '../src/node.js';

const lan = new MemoryNetwork({ seed: 1 });
const server = new Stack({ seed: 1 });
server.addInterface(lan.attach(), { address: '10.0.0.1/24' });
const client = new Stack({ seed: 2 });
client.addInterface(lan.attach(), { address: '10.0.0.2/24' });
const serverNet = createNet(server);
const clientNet = createNet(client);

// An echo server and a client, as with Node's net.
serverNet.createServer((socket) => socket.pipe(socket)).listen(7);
const sock = clientNet.connect(7, '10.0.0.1', () => sock.end('hello, net'));
sock.on('data', (d: Buffer) => console.log(`echo from ${sock.remoteAddress ?? ''}:`, d.toString()));
await new Promise((resolve) => sock.on('close', resolve));

// Node's http: the server is fed our connections, the client gets our sockets.
const web = http.createServer((req, res) => res.end(`hello from ${req.url ?? ''}`));
serverNet.createServer((socket) => web.emit('connection', socket)).listen(80);
http.get({ path: '/index.html', createConnection: () => clientNet.connect(80, '10.0.0.1') }, (res) => {
  res.on('data', (d: Buffer) => console.log(`http ${res.statusCode ?? 0}:`, d.toString()));
  res.on('end', () => {
    server.close();
    client.close();
  });
});
