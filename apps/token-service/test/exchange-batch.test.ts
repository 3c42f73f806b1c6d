// The code exchange's batched write through the route (issue 13): concurrent exchanges each get their own token under the
// pair's one authorization, and a client disabled between its authentication and the write is refused as invalid_client.
import { CodeStore, type EphemeralStore } from '@partner-oauth/ephemeral-store';
import { addTestClient } from '@partner-oauth/storage/testing';
import { useApp as useTestApp } from '@partner-oauth/test-support/app';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, loadTokenServiceConfig } from '../src/index.js';
import { PLATFORM_API } from './helpers.js';

/** Run once, right after the next code is taken from Redis: between the client's authentication and the token's write. */
let afterRedeem: (() => Promise<void>) | undefined;

const h = useTestApp({
  redis: true,
  build: ({ t, redis }) => {
    const store = new Proxy(redis.store, {
      get(target, prop) {
        if (prop === 'takeIfMatches') {
          return async (...args: Parameters<EphemeralStore['takeIfMatches']>) => {
            const taken = await target.takeIfMatches(...args);
            const hook = afterRedeem;
            afterRedeem = undefined;
            await hook?.();
            return taken;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return buildApp({
      config: loadTokenServiceConfig({ DATABASE_URL: t.url, REDIS_URL: redis.url, LOG_LEVEL: 'silent', WEBHOOK_WORKER: 'false' }),
      db: t.db,
      store,
      logger: false,
    });
  },
});

const partner = { client_id: 'gc-partner', client_secret: 'gc-partner-secret' };
beforeAll(async () => {
  await addTestClient(h.t.db, partner.client_id);
});

const codes = () => new CodeStore(h.redis.store);
const grant = () => ({
  clientId: partner.client_id,
  appId: h.t.ids.apps['Acme Sales'] as string,
  accountId: h.t.ids.accounts['ada@example.com'] as string,
  redirectUri: `https://${partner.client_id}.example/callback`,
  redirectUriSent: false,
  scope: 'app:read',
});
const exchange = (code: string) =>
  h.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'authorization_code', code, ...partner }).toString(),
  });

describe('the code exchange, batched', () => {
  it('concurrent exchanges of one partner and app each get their own live token, under one authorization', async () => {
    const issued = await Promise.all(Array.from({ length: 12 }, () => codes().issue(grant())));
    const replies = await Promise.all(issued.map(exchange));
    expect(replies.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
    const tokens = replies.map((r) => r.json().access_token as string);
    expect(new Set(tokens).size).toBe(12);
    for (const token of tokens) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...PLATFORM_API },
        payload: new URLSearchParams({ token }).toString(),
      });
      expect(res.json()).toMatchObject({ active: true, client_id: partner.client_id, scope: 'app:read' });
    }
    const authorizations = await h.t.db.selectFrom('authorizations').select('id').where('client_id', '=', partner.client_id).execute();
    expect(authorizations).toHaveLength(1);
  });

  it('a client disabled between its authentication and the write: invalid_client, and no token written', async () => {
    const code = await codes().issue(grant());
    const before = await h.t.db.selectFrom('access_tokens').select('id').where('client_id', '=', partner.client_id).execute();
    afterRedeem = async () => {
      await h.t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', partner.client_id).execute();
    };
    const res = await exchange(code);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    const after = await h.t.db.selectFrom('access_tokens').select('id').where('client_id', '=', partner.client_id).execute();
    expect(after).toEqual(before);
  });
});
