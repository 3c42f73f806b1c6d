// The retention sweep as the token service runs it: beside the webhook worker, with its metrics; pruned tokens stay inactive.
import { FakeClock } from '@partner-oauth/service-kit';
import { describe, expect, it } from 'vitest';
import { PLATFORM_API, useApp } from './helpers.js';

const clock = new FakeClock();
const RETENTION = 120;
const h = useApp({
  env: { WEBHOOK_WORKER: 'true', RETENTION_SECONDS: String(RETENTION), RETENTION_SWEEP_SECONDS: '1' },
  clock,
  // No removal notices leave this test: the worker runs, but the partner has no remove_url.
  prepare: async (t) => {
    await t.db.updateTable('clients').set({ remove_url: null }).where('client_id', '=', 'shoplifter').execute();
  },
});

const shoplifter = { client_id: 'shoplifter', client_secret: 'secret' };
const postForm: typeof h.postForm = (...args) => h.postForm(...args);
const rs = PLATFORM_API;
const metric = async (pattern: RegExp) => {
  const match = (await h.app.inject({ method: 'GET', url: '/metrics' })).body.match(pattern);
  return match ? Number(match[1]) : undefined;
};

async function until<T>(read: () => Promise<T | undefined>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await read();
    if (v !== undefined && ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

describe('the retention sweep in the token service', () => {
  it('prunes a revoked token once the window has passed: introspection still says inactive, a replay of its code still refused', async () => {
    const code = await h.codes.issue(h.grant);
    const issued = await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter });
    const token = issued.json().access_token as string;
    expect((await postForm('/oauth/revoke', { token, ...shoplifter })).statusCode).toBe(200);
    const tokenRows = () => h.t.db.selectFrom('access_tokens').select('id').execute();
    expect((await tokenRows()).length).toBe(1);

    // The sweeper runs every second; past the window it deletes the revoked token and its ended authorization.
    clock.advance((RETENTION + 5) * 1000);
    await until(
      () => metric(/retention_deleted_rows_total\{[^}]*table="access_tokens"[^}]*\} (\d+)/),
      (n) => n >= 1,
    );
    expect(await tokenRows()).toEqual([]);
    expect(await h.t.db.selectFrom('authorizations').select('id').execute()).toEqual([]);
    expect(await metric(/retention_sweep_last_success_timestamp_seconds\{[^}]*\} (\d+)/)).toBeGreaterThan(0);

    expect((await postForm('/oauth/introspect', { token }, rs)).json()).toEqual({ active: false });
    const replay = await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error).toBe('invalid_grant');
    expect(await tokenRows()).toEqual([]);
  });

  it('keeps a live token however far the clock moves', async () => {
    const code = await h.codes.issue(h.grant);
    const token = (await postForm('/oauth/token', { grant_type: 'authorization_code', code, ...shoplifter })).json().access_token as string;
    const before = (await metric(/retention_sweeps_total\{[^}]*outcome="swept"[^}]*\} (\d+)/)) ?? 0;
    clock.advance(10 * 365 * 86_400 * 1000);
    await until(
      () => metric(/retention_sweeps_total\{[^}]*outcome="swept"[^}]*\} (\d+)/),
      (n) => n >= before + 2,
    );
    expect((await postForm('/oauth/introspect', { token }, rs)).json()).toMatchObject({ active: true, client_id: 'shoplifter' });
  });
});
