import * as nodeNet from 'node:net';
import { lan } from '../../examples/tcp-net.js';
import { createNet } from './net.js';
import { netConformance } from './net-conformance.js';
import type { NetLike } from './net-conformance.js';

netConformance('node:net on loopback', () => ({
  client: nodeNet,
  server: nodeNet,
  host: '127.0.0.1',
  closedPort: 1,
}));

netConformance('sockstack net (two stacks, virtual clock)', () => {
  const l = lan();
  const [srv, cli] = l.hosts as [(typeof l.hosts)[0], (typeof l.hosts)[0]];
  return {
    client: createNet(cli.stack) as unknown as NetLike,
    server: createNet(srv.stack) as unknown as NetLike,
    host: srv.address,
    closedPort: 1,
    close: () => l.close(),
  };
});
