import * as http from 'node:http';
import { describe, expect, it } from 'vitest';
import { lan } from '../../examples/tcp-net.js';
import { createNet } from './net.js';

describe("Node's http over the sockstack net drop-in", () => {
  it('serves 100 parallel requests (chunked bodies, keep-alive agent) between two stacks', async () => {
    const l = lan();
    try {
      const [srv, cli] = l.hosts as [(typeof l.hosts)[0], (typeof l.hosts)[0]];
      const serverNet = createNet(srv.stack);
      const clientNet = createNet(cli.stack);
      const httpServer = http.createServer((req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (d: Buffer) => parts.push(d));
        req.on('end', () => {
          res.setHeader('content-type', 'text/plain');
          // No content-length: Node answers with a chunked body.
          res.write(`${req.method ?? ''} ${req.url ?? ''} `);
          res.end(`echo:${Buffer.concat(parts).toString()}`);
        });
      });
      const tcpServer = serverNet.createServer((socket) => {
        httpServer.emit('connection', socket);
      });
      await new Promise<void>((resolve) => tcpServer.listen(8080, '0.0.0.0', resolve));

      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      let connections = 0;
      (agent as unknown as { createConnection: () => unknown }).createConnection = () => {
        connections++;
        return clientNet.connect(8080, srv.address);
      };
      const request = (i: number): Promise<{ status: number; body: string; te: string | undefined }> =>
        new Promise((resolve, reject) => {
          const req = http.request(
            { host: srv.address, port: 8080, method: 'POST', path: `/r/${i}`, agent },
            (res) => {
              const parts: Buffer[] = [];
              res.on('data', (d: Buffer) => parts.push(d));
              res.on('end', () => {
                resolve({
                  status: res.statusCode ?? 0,
                  body: Buffer.concat(parts).toString(),
                  te: res.headers['transfer-encoding'],
                });
              });
            },
          );
          req.on('error', reject);
          req.write(`payload-${i}-`);
          req.end('x'.repeat(i * 100));
        });
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => request(i)));
      results.forEach((r, i) => {
        expect(r.status).toBe(200);
        expect(r.te).toBe('chunked');
        expect(r.body).toBe(`POST /r/${i} echo:payload-${i}-${'x'.repeat(i * 100)}`);
      });
      // The keep-alive agent reused its sockets.
      expect(connections).toBeLessThanOrEqual(8);

      // http.request with a createConnection option, no agent.
      const one = await new Promise<string>((resolve, reject) => {
        const req = http.request(
          { method: 'GET', path: '/direct', createConnection: () => clientNet.connect(8080, srv.address) } as http.RequestOptions,
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(one).toBe('GET /direct echo:');
      agent.destroy();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => tcpServer.close(() => resolve()));
    } finally {
      l.close();
    }
  });
});
