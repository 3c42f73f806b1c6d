// The floor: a bare node:http server that reads each request's body and answers the bench's validators with a fixed,
// valid answer, doing no work at all. What it reaches with the same driver on the same machine bounds what any
// server can; its ratio to the peer is the highest ratio a target can ask of this machine and driver.
//
// With DATABASE_URL, the durable floor: a token answer goes only after the token's SHA-256 is committed to Postgres
// (synchronous commit), the one rule of issue 13 that the peer, whose tokens live in Redis, does not pay. Nothing else:
// no code, no client, no checks, a table of one column. The writes of the exchanges in flight together go as one
// insert and one commit, one call in flight (the product's group commit, service-kit's Coalescer); at one connection every token is a call of
// its own, so no server that commits each token before answering it does better there.
import { createServer } from 'node:http';
import { Coalescer, randomToken, sha256 } from '@partner-oauth/service-kit';
import pg from 'pg';

const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const introspection = JSON.stringify({ active: true, client_id: 'shoplifter', scope: 'app:read', token_type: 'Bearer' });
/** A new token text per answer, as a real server's (the driver keeps the tokens it is given). */
const newToken = () => randomToken(32, 'poat_');
const tokenAnswer = (token = newToken()) =>
  JSON.stringify({ access_token: token, token_type: 'Bearer', app_id: 'floor', scope: 'app:read' });

const databaseUrl = process.env.DATABASE_URL;
/** Each token's hash committed before its answer, batched by the product's own group commit (service-kit's Coalescer). */
let writes: Coalescer<string, void> | undefined;
if (databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-floor' });
  // Its database dropped under it (the bench's end), or Postgres gone: nothing to bound any more.
  client.on('error', (err) => {
    process.stderr.write(`floor-durable: ${err.message}\n`);
    process.exit(1);
  });
  await client.connect();
  await client.query('create table if not exists floor_tokens (token_hash text primary key)');
  const insert = { name: 'floor_insert', text: 'insert into floor_tokens (token_hash) select unnest($1::text[])' };
  writes = new Coalescer(async (hashes: string[]) => {
    await client.query(insert, [hashes]);
    return hashes.map(() => undefined);
  });
}

function answerToken(res: import('node:http').ServerResponse): void {
  if (!writes) return void res.writeHead(200, json).end(tokenAnswer());
  const token = newToken();
  writes.submit(sha256(token)).then(
    () => res.writeHead(200, json).end(tokenAnswer(token)),
    () => res.writeHead(503, json).end('{"error":"temporarily_unavailable"}'),
  );
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/health/live') return void res.writeHead(200, json).end('{"status":"ok"}');
    if (req.method === 'POST' && req.url === '/oauth/token') return answerToken(res);
    if (req.method === 'POST' && req.url === '/oauth/introspect') return void res.writeHead(200, json).end(introspection);
    res.writeHead(404, json).end('{"error":"not_found"}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
