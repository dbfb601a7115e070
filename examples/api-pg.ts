/**
 * The `pg` client (PostgreSQL), unchanged, over sockstack on a TUN device:
 * `pg` takes the socket to use as its `stream` option.
 *   sudo ip tuntap add dev tun0 mode tun user $USER && sudo ip addr add 10.0.0.1/24 dev tun0 && sudo ip link set tun0 up
 *   npx tsx examples/api-pg.ts tun0 10.0.0.2/24 10.0.0.1     # device, our address, the server
 */
import pg from 'pg';
import { Stack } from '../src/index.js';
import { createNet, openTun } from '../src/node.js';

const [device = 'tun0', address = '10.0.0.2/24', host = process.env.PGHOST ?? '10.0.0.1'] = process.argv.slice(2);
const stack = new Stack();
stack.addInterface(await openTun(device), { address });
const net = createNet(stack);

const client = new pg.Client({ host, user: 'postgres', database: 'postgres', stream: () => new net.Socket() });
await client.connect();
const { rows } = await client.query<{ greeting: string; n: number }>('SELECT $1::text AS greeting, $2::int * 2 AS n', ['hello over sockstack', 21]);
console.log(rows[0]);
await client.end();
stack.close();
