// The code exchange's batched write through the route (issue 13): concurrent exchanges each get their own token under the
// pair's one authorization, and a client disabled, or a secret ended, between its authentication (perhaps from the
// credential cache) and the write is refused as invalid_client.
import { CodeStore, type EphemeralStore } from '@partner-oauth/ephemeral-store';
import { sha256 } from '@partner-oauth/service-kit';
import { addTestClient } from '@partner-oauth/storage/testing';
import { useApp as useTestApp } from '@partner-oauth/test-support/app';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, loadTokenServiceConfig } from '../src/index.js';
import { basic, PLATFORM_API } from './helpers.js';

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
/** A partner of its own for the credential cache's cases (the last case above disables gc-partner). */
const cached = { client_id: 'gc-cached', client_secret: 'gc-cached-secret' };
beforeAll(async () => {
  await addTestClient(h.t.db, partner.client_id);
  await addTestClient(h.t.db, cached.client_id);
});

const codes = () => new CodeStore(h.redis.store);
const grant = (clientId = partner.client_id) => ({
  clientId,
  appId: h.t.ids.apps['Acme Sales'] as string,
  accountId: h.t.ids.accounts['ada@example.com'] as string,
  redirectUri: `https://${clientId}.example/callback`,
  redirectUriSent: false,
  scope: 'app:read',
});
const exchange = (code: string, creds: { client_id: string; client_secret: string } = partner) =>
  h.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'authorization_code', code, ...creds }).toString(),
  });
const tokensOf = async (clientId: string) =>
  (await h.t.db.selectFrom('access_tokens').select('id').where('client_id', '=', clientId).execute()).length;
const FAILED = { error: 'invalid_client', error_description: 'client authentication failed' };

describe('the code exchange, batched', () => {
  it('concurrent exchanges of one partner and app each get their own live token, under one authorization', async () => {
    const issued = await Promise.all(Array.from({ length: 12 }, () => codes().issue(grant())));
    const replies = await Promise.all(issued.map((c) => exchange(c)));
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

  it('a secret revoked just after a match was cached is refused at the write: invalid_client, no token', async () => {
    expect((await exchange(await codes().issue(grant(cached.client_id)), cached)).statusCode).toBe(200);
    await h.t.db.updateTable('client_secrets').set({ revoked_at: new Date() }).where('client_id', '=', cached.client_id).execute();
    const before = await tokensOf(cached.client_id);
    const res = await exchange(await codes().issue(grant(cached.client_id)), cached);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(FAILED);
    expect(await tokensOf(cached.client_id)).toBe(before);
  });

  it('a secret added while the old ones are cached authenticates at once; with Basic, a refusal at the write has the challenge', async () => {
    const fresh = 'gc-cached-second-secret';
    await h.t.db
      .insertInto('client_secrets')
      .values({ id: `sec_${Date.now()}`, client_id: cached.client_id, secret_hash: sha256(fresh) })
      .execute();
    const ok = await exchange(await codes().issue(grant(cached.client_id)), { client_id: cached.client_id, client_secret: fresh });
    expect(ok.statusCode).toBe(200);
    // Cached as a match now; disabled afterwards, the Basic client is refused as its authentication would have been.
    const code = await codes().issue(grant(cached.client_id));
    await h.t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', cached.client_id).execute();
    const res = await h.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...basic(cached.client_id, fresh) },
      payload: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(FAILED);
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('a replay presented between the redemption and its write: both refused, nothing written, counted as a replay', async () => {
    const replayer = { client_id: 'gc-replay', client_secret: 'gc-replay-secret' };
    await addTestClient(h.t.db, replayer.client_id);
    const code = await codes().issue(grant(replayer.client_id));
    let replay: Awaited<ReturnType<typeof exchange>> | undefined;
    afterRedeem = async () => {
      replay = await exchange(code, replayer);
    };
    const original = await exchange(code, replayer);
    const INVALID = { error: 'invalid_grant', error_description: expect.any(String) };
    expect([original.statusCode, original.json()]).toEqual([400, INVALID]);
    expect([replay?.statusCode, replay?.json()]).toEqual([400, INVALID]);
    // The replay reached Postgres first and marked the code: the original's write wrote nothing for it.
    expect(await h.t.db.selectFrom('access_tokens').select('id').where('code_hash', '=', sha256(code)).execute()).toEqual([]);
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/oauth_codes_refused_total\{reason="replayed",service="token-service"\} [1-9]/);
  });

  it('a client disabled between its authentication and the write: invalid_client, and no token written', async () => {
    const code = await codes().issue(grant());
    const before = await h.t.db.selectFrom('access_tokens').select('id').where('client_id', '=', partner.client_id).execute();
    afterRedeem = async () => {
      await h.t.db.updateTable('clients').set({ status: 'disabled' }).where('client_id', '=', partner.client_id).execute();
    };
    const res = await exchange(code);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual(FAILED);
    const after = await h.t.db.selectFrom('access_tokens').select('id').where('client_id', '=', partner.client_id).execute();
    expect(after).toEqual(before);
  });
});
