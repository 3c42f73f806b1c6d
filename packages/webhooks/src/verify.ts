// What a partner does on receipt: check `x-webhook-signature` against the raw body, in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface VerifyOptions {
  /** How far the signature's timestamp may be from now, either way (replay window). */
  toleranceSeconds?: number;
  /** Now, in milliseconds since the epoch (as `Date.now()`); defaults to the system clock. */
  now?: number;
}

/**
 * True when `header` (`t=<unix seconds>,v1=<hex>[,v1=<hex>…]`) carries a v1 HMAC-SHA256 of
 * `"<t>.<body>"` under `secret` and `t` is within the tolerance. `body` must be the raw bytes
 * received, not a re-serialisation of the parsed JSON.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  { toleranceSeconds = 300, now = Date.now() }: VerifyOptions = {},
): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return false;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return false;
      timestamp = value;
    } else if (key === 'v1') {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;

  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  let valid = false;
  for (const signature of signatures) {
    if (!/^[0-9a-f]{64}$/i.test(signature)) continue;
    // Every candidate is compared, so timing says nothing about which one matched.
    if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) valid = true;
  }
  return valid;
}
