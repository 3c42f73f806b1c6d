// Test doubles that are not doubles: a real HTTP receiver on loopback, outbox rows in the real database.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { removalNotification } from '@partner-oauth/contracts';
import type { Db } from '@partner-oauth/storage';
import type { WebhookLogger } from '../src/index.js';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Reply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

export interface Receiver {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:0 answering each request with `reply(request, index)`. */
export async function startReceiver(reply: (req: Received, index: number) => Reply): Promise<Receiver> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = requests.push(received) - 1;
      const r = reply(received, index);
      if (r === 'hang') return;
      const send = () => res.writeHead(r.status, r.headers).end(r.body ?? '');
      if (r.delayMs) setTimeout(send, r.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/removed`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A pino-shaped logger that keeps its lines for assertions. */
export function memoryLogger(): WebhookLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** An outbox row as endAuthorizations writes it, due now (by the database's clock). */
export async function insertDelivery(
  db: Db,
  url: string,
  overrides: { clientId?: string; requestId?: string | null } = {},
): Promise<string> {
  const id = randomUUID();
  const clientId = overrides.clientId ?? 'shoplifter';
  const appId = randomUUID();
  const payload = removalNotification({ id, clientId, appId, reason: 'admin_removed', removedAt: new Date() });
  await db
    .insertInto('webhook_deliveries')
    .values({
      id,
      client_id: clientId,
      app_id: appId,
      authorization_id: randomUUID(),
      reason: payload.reason,
      url,
      secret_version: 1,
      payload: JSON.stringify(payload),
      request_id: overrides.requestId === undefined ? 'req-test' : overrides.requestId,
    })
    .execute();
  return id;
}

export async function deliveryRow(db: Db, id: string) {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Polls `check` until it holds, for tests driving real timers. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
