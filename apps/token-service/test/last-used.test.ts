// "Last used" for Connected integrations: token exchange, tokenInfo and introspection record it, at most once an
// hour per authorization, so the introspection hot path sends no write in between (real Postgres and Redis).
import { FakeClock } from '@partner-oauth/service-kit';
import { describe, expect, it } from 'vitest';
import { buildApp, loadTokenServiceConfig } from '../src/index.js';
import { PLATFORM_API, useApp } from './helpers.js';

const clock = new FakeClock(Date.parse('2026-11-30T08:00:00Z'));
const HOUR = 60 * 60_000;
const h = useApp({ env: { ISSUER: 'https://auth.example' }, clock });

const postForm: typeof h.postForm = (...args) => h.postForm(...args);
const rsBasic = PLATFORM_API;

async function tokenFor(appName: string): Promise<string> {
  const code = await h.codes.issue({ ...h.grant, appId: h.t.ids.apps[appName] as string });
  const res = await postForm('/oauth/token', { grant_type: 'authorization_code', code, client_id: 'shoplifter', client_secret: 'secret' });
  expect(res.statusCode).toBe(200);
  return res.json().access_token;
}

const lastUsed = async (appName: string) =>
  (
    await h.t.db
      .selectFrom('authorizations')
      .select('last_used_at')
      .where('client_id', '=', 'shoplifter')
      .where('app_id', '=', h.t.ids.apps[appName] as string)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow()
  ).last_used_at?.toISOString() ?? null;

const setLastUsed = (value: Date | null) =>
  h.t.db.updateTable('authorizations').set({ last_used_at: value }).where('client_id', '=', 'shoplifter').execute();
const introspect = async (token: string) => (await postForm('/oauth/introspect', { token }, rsBasic)).json();
const tokenInfo = (token: string) => h.app.inject({ url: '/v2/tokenInfo', headers: { authorization: `Bearer ${token}` } });
/** A write would have been sent by now: the recorder sends it in the background, right after the answer. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('last used', () => {
  it('the token exchange records it; within the hour introspection and tokenInfo send no write; after it, they record again', async () => {
    const token = await tokenFor('Acme Sales');
    const issuedAt = new Date(clock.now()).toISOString();
    await expect.poll(() => lastUsed('Acme Sales')).toBe(issuedAt);

    // Cleared behind the service's back: any UPDATE sent now would fill it in, since its condition holds on null.
    await setLastUsed(null);
    clock.advance(HOUR - 1000);
    for (let i = 0; i < 10; i++) {
      expect((await introspect(token)).active).toBe(true);
      expect((await tokenInfo(token)).statusCode).toBe(200);
    }
    await settle();
    expect(await lastUsed('Acme Sales')).toBeNull();

    clock.advance(2000);
    expect((await introspect(token)).active).toBe(true);
    await expect.poll(() => lastUsed('Acme Sales')).toBe(new Date(clock.now()).toISOString());
  });

  it('another instance, with no memory of it, leaves a use recorded within the hour as it is (the UPDATE is conditional)', async () => {
    const token = await tokenFor('Acme Support');
    const recorded = new Date(clock.now() - 10 * 60_000);
    await h.t.db
      .updateTable('authorizations')
      .set({ last_used_at: recorded })
      .where('app_id', '=', h.t.ids.apps['Acme Support'] as string)
      .where('revoked_at', 'is', null)
      .execute();
    const other = await buildApp({
      config: loadTokenServiceConfig({ ISSUER: 'https://auth.example', LOG_LEVEL: 'silent', WEBHOOK_WORKER: 'false' }),
      db: h.t.db,
      store: h.redis.store,
      clock,
      logger: false,
    });
    try {
      const res = await other.inject({ url: '/v2/tokenInfo', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      await settle();
      expect(await lastUsed('Acme Support')).toBe(recorded.toISOString());
    } finally {
      await other.close();
    }
  });
});
