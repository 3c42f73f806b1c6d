// A round-robin HTTP proxy on loopback: each request, not each connection, goes to the next backend.
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

export interface RoundRobinProxy {
  url: string;
  /** Requests each backend received, in backend order. */
  served: number[];
  close(): Promise<void>;
}

/**
 * A backend that refuses the connection (stopped, restarting) never saw the request: like nginx's
 * `proxy_next_upstream error`, the proxy tries the next one. Any other upstream failure is a 502.
 */
export async function startRoundRobinProxy(backends: string[]): Promise<RoundRobinProxy> {
  const served = backends.map(() => 0);
  let next = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const first = next++ % backends.length;
    const attempt = (tries: number): void => {
      const index = (first + tries) % backends.length;
      const target = new URL(req.url ?? '/', backends[index]);
      // A fresh connection per request (agent: false), so keep-alive cannot pin a client to one backend.
      const upstream = httpRequest(target, { method: req.method, headers: req.headers, agent: false }, (up: IncomingMessage) => {
        served[index] = (served[index] ?? 0) + 1;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' && tries + 1 < backends.length) return attempt(tries + 1);
        if (!res.headersSent) res.writeHead(502, { 'x-proxy-error': err.code ?? 'error' }).end();
        else res.destroy();
      });
      upstream.end(body);
    };
    attempt(0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
