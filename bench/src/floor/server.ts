// The floor: a bare node:http server that reads each request's body and answers the bench's validators with a fixed,
// valid answer, doing no work at all. What it reaches with the same driver on the same machine bounds what any
// server can; its ratio to the peer is the highest ratio a target can ask of this machine and driver.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const introspection = JSON.stringify({ active: true, client_id: 'shoplifter', scope: 'app:read', token_type: 'Bearer' });
/** A new token text per answer, as a real server's (the driver keeps the tokens it is given). */
const tokenAnswer = () =>
  JSON.stringify({
    access_token: `poat_${randomBytes(32).toString('base64url')}`,
    token_type: 'Bearer',
    app_id: 'floor',
    scope: 'app:read',
  });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/health/live') return void res.writeHead(200, json).end('{"status":"ok"}');
    if (req.method === 'POST' && req.url === '/oauth/token') return void res.writeHead(200, json).end(tokenAnswer());
    if (req.method === 'POST' && req.url === '/oauth/introspect') return void res.writeHead(200, json).end(introspection);
    res.writeHead(404, json).end('{"error":"not_found"}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
