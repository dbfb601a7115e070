/**
 * The README example: a server and a client stack on a virtual LAN in real
 * time (SystemClock), talking with the BSD calls. `npx tsx examples/quickstart.ts`
 */
import { Stack, MemoryNetwork, constants as C } from '../src/index.js';

const lan = new MemoryNetwork({ seed: 7 });
const server = new Stack({ seed: 1 });
server.addInterface(lan.attach(), { address: '10.0.0.1/24' });
const client = new Stack({ seed: 2 });
client.addInterface(lan.attach(), { address: '10.0.0.2/24' });

const s = server.sys;
const lfd = s.socket(C.AF_INET, C.SOCK_STREAM, 0);
s.setsockopt(lfd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
s.bind(lfd, { address: '0.0.0.0', port: 7 });
s.listen(lfd, 128);
const served = (async () => {
  const { fd, address } = await s.accept(lfd);
  const buf = new Uint8Array(4096);
  const n = await s.read(fd, buf);
  await s.write(fd, buf.subarray(0, n));
  s.shutdown(fd, C.SHUT_WR);
  s.close(fd);
  return address;
})();
const c = client.sys;
const fd = c.socket(C.AF_INET, C.SOCK_STREAM, 0);
await c.connect(fd, { address: '10.0.0.1', port: 7 });
await c.write(fd, new TextEncoder().encode('hello, sockstack'));
const buf = new Uint8Array(100);
const n = await c.read(fd, buf);
console.log('client got', JSON.stringify(new TextDecoder().decode(buf.subarray(0, n))), 'eof:', await c.read(fd, buf));
c.close(fd);
console.log('server saw', await served);
server.close(); client.close();
