/**
 * The web-standard `connect()` (WinterTC sockets API, as in Cloudflare
 * Workers): streams in, streams out, in any JavaScript runtime.
 * `npx tsx examples/api-connect.ts`
 */
import { Stack, MemoryNetwork, createNet } from '../src/node.js';

const lan = new MemoryNetwork({ seed: 1 });
const server = new Stack({ seed: 1 });
server.addInterface(lan.attach(), { address: '10.0.0.1/24' });
const client = new Stack({ seed: 2 });
client.addInterface(lan.attach(), { address: '10.0.0.2/24' });
// Any server will do; here an upper-casing one from the net drop-in.
createNet(server)
  .createServer((s) => s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase())).on('end', () => s.end()))
  .listen(7);

const socket = client.connect('10.0.0.1:7'); // or { hostname: '10.0.0.1', port: 7 }
const { remoteAddress, localAddress } = await socket.opened;
console.log(`connected ${localAddress} -> ${remoteAddress}`);

// Pipe a stream in (pipeTo closes our side at the end), read the answer out.
const lines = ['hello, ', 'web ', 'sockets'].map((s) => new TextEncoder().encode(s));
const sent = ReadableStream.from(lines).pipeTo(socket.writable);
let answer = '';
for await (const chunk of socket.readable.pipeThrough(new TextDecoderStream())) answer += chunk;
await sent;
await socket.closed;
console.log(`got "${answer}"`);
server.close();
client.close();
