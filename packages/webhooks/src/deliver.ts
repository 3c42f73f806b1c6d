// One attempt at delivering a removal notification: a signed POST of the stored body, no redirects.

import type { WebhookDeliveryRow } from '@partner-oauth/storage';
import { guardedFetch, type Resolver } from './outbound.js';
import { signWebhook, webhookSigningSecret } from './signing.js';

export const USER_AGENT = 'partner-oauth-webhooks/1';
export const DEFAULT_TIMEOUT_MS = 5_000;
/** The most of a partner's response (or of an error text) ever kept: it lands in the database and logs. */
const MAX_ERROR_CHARS = 200;

/**
 * What an attempt needs from an outbox row. `previous_secret_version`, during a webhook-secret rotation's
 * overlap, adds a second `v1=` signature so a partner still holding the old secret keeps verifying.
 */
export type DeliverableRow = Pick<WebhookDeliveryRow, 'id' | 'client_id' | 'url' | 'secret_version' | 'payload' | 'request_id'> & {
  previous_secret_version?: number | null | undefined;
};

export interface DeliverOptions {
  /** The deployment's WEBHOOK_SIGNING_KEY, from which each client's secret is derived. */
  signingKey: string;
  /** The signature timestamp, unix seconds; defaults to now. */
  nowSeconds?: number;
  timeoutMs?: number;
  /** Development only (WEBHOOK_ALLOW_LOOPBACK): lets a partner on this machine be notified. */
  allowLoopback?: boolean;
  /** How host names are resolved before the address is checked; the system resolver by default. */
  resolver?: Resolver;
  /** Replaces the address-checking fetch (tests of what happens after the request). */
  fetchImpl?: typeof fetch;
}

const defaultFetches = new Map<boolean, typeof fetch>();

/** The address-checking fetch for a policy: one connection pool per policy, made on first use. */
function outboundFetch(opts: DeliverOptions): typeof fetch {
  const allowLoopback = opts.allowLoopback ?? false;
  if (opts.resolver) return guardedFetch({ allowLoopback, resolver: opts.resolver });
  let made = defaultFetches.get(allowLoopback);
  if (!made) {
    made = guardedFetch({ allowLoopback });
    defaultFetches.set(allowLoopback, made);
  }
  return made;
}

export type DeliveryResult =
  | { ok: true; status: number }
  /** `status` is absent when no response arrived (network error, timeout). */
  | { ok: false; status?: number; error: string };

/**
 * Signs and POSTs `row.payload` to `row.url`; a 2xx is success, anything else (3xx included) a failure.
 * The URL is checked again here, and its host resolved and refused when private: the rules at registration
 * do not see what a name will resolve to on the day of delivery.
 */
export async function deliverOne(row: DeliverableRow, opts: DeliverOptions): Promise<DeliveryResult> {
  const fetchImpl = opts.fetchImpl ?? outboundFetch(opts);
  const nowSeconds = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-webhook-id': row.id,
    'x-webhook-signature': signatureHeader(opts.signingKey, row, nowSeconds),
  };
  if (row.request_id) headers['x-request-id'] = row.request_id;

  // The timeout covers reading the (truncated) response body as well as the headers.
  const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetchImpl(row.url, { method: 'POST', headers, body: row.payload, redirect: 'manual', signal });
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
  const status = response.status;
  if (status >= 200 && status < 300) {
    await discard(response);
    return { ok: true, status };
  }
  if (status >= 300 && status < 400) {
    await discard(response);
    return { ok: false, status, error: `HTTP ${status}: redirect not followed` };
  }
  let snippet = '';
  try {
    snippet = await readPrefix(response, MAX_ERROR_CHARS);
  } catch {
    // The status alone is enough to record.
  }
  return { ok: false, status, error: truncate(snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`) };
}

/** `t=<ts>,v1=<current>[,v1=<previous>]`: Stripe-style, the receiver accepts any v1 its secret produced. */
function signatureHeader(signingKey: string, row: DeliverableRow, nowSeconds: number): string {
  const current = signWebhook(webhookSigningSecret(signingKey, row.client_id, row.secret_version), nowSeconds, row.payload);
  const previous = row.previous_secret_version;
  if (previous === undefined || previous === null || previous === row.secret_version) return current;
  const old = signWebhook(webhookSigningSecret(signingKey, row.client_id, previous), nowSeconds, row.payload);
  return `${current},${old.slice(old.indexOf(',') + 1)}`;
}

/** At most `maxChars` characters of the body, without reading the rest of it. */
async function readPrefix(response: Response, maxChars: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < maxChars) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.slice(0, maxChars).replace(/\s+/g, ' ').trim();
}

/** Releases the connection without reading what the partner sent. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timeout';
    if (err.name === 'AbortError') return 'aborted';
    if (err.name === 'OutboundRefused') return truncate(`refused: ${err.message}`);
    // undici wraps the socket error: "fetch failed" with the useful code on `cause`.
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      if (cause.name === 'OutboundRefused') return truncate(`refused: ${cause.message}`);
      const code = (cause as { code?: unknown }).code;
      return truncate(typeof code === 'string' ? `${code}: ${cause.message}` : cause.message);
    }
    return truncate(err.message);
  }
  return 'unknown error';
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
