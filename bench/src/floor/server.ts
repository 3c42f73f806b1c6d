// The floor: a bare node:http server that reads each request's body and answers the bench's validators with a fixed,
// valid answer, doing no work at all. What it reaches with the same driver on the same machine bounds what any
// server can; its ratio to the peer is the highest ratio a target can ask of this machine and driver.
//
// With DATABASE_URL, the durable floor: a token answer goes only after the token's SHA-256 is committed to Postgres
// (synchronous commit), the one rule of issue 13 that the peer, whose tokens live in Redis, does not pay. Nothing else:
// no code, no client, no checks, a table of one column. The writes of the exchanges in flight together go as one
// insert and one commit, one call in flight (the product's group commit); at one connection every token is a call of
// its own, so no server that commits each token before answering it does better there.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';

const json = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const introspection = JSON.stringify({ active: true, client_id: 'shoplifter', scope: 'app:read', token_type: 'Bearer' });
/** A new token text per answer, as a real server's (the driver keeps the tokens it is given). */
const newToken = () => `poat_${randomBytes(32).toString('base64url')}`;
const tokenAnswer = (token = newToken()) =>
  JSON.stringify({ access_token: token, token_type: 'Bearer', app_id: 'floor', scope: 'app:read' });

/** Commits each token's hash before its answer: the calls of one turn as one insert, one call in flight. */
function durableWrites(client: pg.Client): (tokenHash: string) => Promise<void> {
  let waiting: { hash: string; done: (err?: unknown) => void }[] = [];
  let inFlight = false;
  const send = async () => {
    if (inFlight || waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    inFlight = true;
    let failure: unknown;
    try {
      const text = 'insert into floor_tokens (token_hash) select unnest($1::text[])';
      await client.query({ name: 'floor_insert', text }, [batch.map((w) => w.hash)]);
    } catch (err) {
      failure = err ?? new Error('insert failed');
    }
    inFlight = false;
    for (const w of batch) w.done(failure);
    void send();
  };
  return (hash) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ hash, done: (err) => (err ? reject(err) : resolve()) });
      void send();
    });
}

const databaseUrl = process.env.DATABASE_URL;
let commit: ((tokenHash: string) => Promise<void>) | undefined;
if (databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-floor' });
  // Its database dropped under it (the bench's end), or Postgres gone: nothing to bound any more.
  client.on('error', (err) => {
    process.stderr.write(`floor-durable: ${err.message}\n`);
    process.exit(1);
  });
  await client.connect();
  await client.query('create table if not exists floor_tokens (token_hash text primary key)');
  commit = durableWrites(client);
}

function answerToken(res: import('node:http').ServerResponse): void {
  if (!commit) return void res.writeHead(200, json).end(tokenAnswer());
  const token = newToken();
  commit(createHash('sha256').update(token).digest('base64url')).then(
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
