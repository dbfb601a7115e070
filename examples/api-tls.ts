/**
 * `connect()` with TLS: the stack gets a TLS provider (node:tls here), and
 * `secureTransport: 'on'` does the rest. The server is Node's tls.Server fed
 * with sockstack connections; the certificate is the test-only one.
 * `npx tsx examples/api-tls.ts`
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { Stack, MemoryNetwork, createNet, nodeTls } from '../src/node.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../test/fixtures/tls/${name}`, import.meta.url));
const [key, cert] = [fixture('key.pem'), fixture('cert.pem')];

const lan = new MemoryNetwork({ seed: 1 });
const server = new Stack({ seed: 1 });
server.addInterface(lan.attach(), { address: '10.0.0.1/24' });
// Trust the test CA; the certificate names sockstack.test, not the address.
const client = new Stack({ seed: 2, tls: nodeTls({ ca: cert, servername: 'sockstack.test' }) });
client.addInterface(lan.attach(), { address: '10.0.0.2/24' });

const tlsServer = tls.createServer({ key, cert }, (s) => s.end(`hello over ${s.getProtocol() ?? ''}`));
// allowHalfOpen: the plain socket must not end itself on the client's FIN
// before TLS above it has written its last records.
createNet(server).createServer({ allowHalfOpen: true }, (s) => tlsServer.emit('connection', s)).listen(443);

const socket = client.connect('10.0.0.1:443', { secureTransport: 'on' });
await socket.opened; // after the handshake: the certificate checked out
let text = '';
for await (const chunk of socket.readable.pipeThrough(new TextDecoderStream())) text += chunk;
console.log(`got "${text}"`);
await socket.closed;
server.close();
client.close();
