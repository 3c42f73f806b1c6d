// One contract suite, run against Redis and against the in-process store.

import { FakeClock, sha256 } from '@partner-oauth/service-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { type CodeGrant, CodeStore, type EphemeralStore, FailureThrottle, MemoryStore } from '../src/index.js';
import { createTestRedis } from '../src/testing.js';

const grant: CodeGrant = {
  clientId: 'shoplifter',
  appId: 'app1',
  accountId: 'acc1',
  redirectUri: 'http://localhost:4000/callback',
  redirectUriSent: false,
  scope: '',
};

const redis = createTestRedis();
afterAll(() => redis.cleanup());

const backends: [string, () => EphemeralStore][] = [
  ['redis', () => redis.store],
  ['memory', () => new MemoryStore()],
];

describe.each(backends)('EphemeralStore on %s', (_name, make) => {
  const store = make();

  it('sets, gets, takes once and deletes', async () => {
    await store.set('k1', 'v1', 10_000);
    expect(await store.get('k1')).toBe('v1');
    expect(await store.take('k1')).toBe('v1');
    expect(await store.take('k1')).toBeNull();
    await store.set('k2', 'v2', 10_000);
    await store.del('k2');
    expect(await store.get('k2')).toBeNull();
  });

  it('expires entries after their life', async () => {
    await store.set('short', 'v', 30);
    await new Promise((r) => setTimeout(r, 80));
    expect(await store.get('short')).toBeNull();
  });

  it('gives a value to exactly one of 50 concurrent takers', async () => {
    await store.set('race', 'prize', 10_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.take('race')));
    expect(results.filter((r) => r === 'prize')).toHaveLength(1);
  });

  it('counts within a fixed window and tells its remaining life', async () => {
    expect(await store.increment('counter', 10_000)).toBe(1);
    expect(await store.increment('counter', 10_000)).toBe(2);
    expect(await store.increment('counter', 50)).toBe(3);
    const ttl = await store.ttl('counter');
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    expect(await store.ttl('missing')).toBe(0);
  });

  it('redeems a code once, with the grant it was issued for', async () => {
    const codes = new CodeStore(store);
    const code = await codes.issue(grant);
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const first = await codes.redeem(code, grant.clientId);
    expect(first).toMatchObject({ ...grant, codeHash: sha256(code) });
    expect(await codes.redeem(code, grant.clientId)).toBeNull();
    expect(await codes.redeem('not-a-code', grant.clientId)).toBeNull();
  });

  it('leaves a code presented by another client where it is, for its own client to redeem', async () => {
    const codes = new CodeStore(store);
    const code = await codes.issue(grant);
    expect(await codes.redeem(code, 'someone-else')).toBe('wrong_client');
    expect(await codes.redeem(code, grant.clientId)).toMatchObject({ ...grant, codeHash: sha256(code) });
    expect(await codes.redeem(code, 'someone-else')).toBeNull();
  });

  it('compares the stored field exactly in takeIfMatches (absent, other type, not JSON)', async () => {
    await store.set('json', JSON.stringify({ clientId: 'a' }), 10_000);
    await store.set('number', JSON.stringify({ clientId: 1 }), 10_000);
    await store.set('text', 'not json', 10_000);
    expect(await store.takeIfMatches('missing', 'clientId', 'a')).toBeNull();
    expect(await store.takeIfMatches('number', 'clientId', '1')).toBe('mismatch');
    expect(await store.takeIfMatches('text', 'clientId', 'a')).toBe('mismatch');
    expect(await store.takeIfMatches('json', 'clientId', 'b')).toBe('mismatch');
    expect(await store.takeIfMatches('json', 'clientId', 'a')).toBe(JSON.stringify({ clientId: 'a' }));
    expect(await store.get('json')).toBeNull();
  });

  it('holds a code back, untouched, while one of the throttles given with it is reached', async () => {
    const codes = new CodeStore(store);
    const code = await codes.issue(grant);
    const auth = new FailureThrottle(store, 'redeem-auth', 2, 60_000);
    const grants = new FailureThrottle(store, 'redeem-grants', 1, 60_000);
    const limits = [auth.limit('shoplifter:1.2.3.4'), grants.limit('shoplifter')];
    await auth.fail('shoplifter:1.2.3.4');
    await grants.fail('shoplifter');
    const held = await codes.redeem(code, grant.clientId, limits);
    expect(held).toMatchObject({ over: 1 });
    expect((held as { ttlMs: number }).ttlMs).toBeGreaterThan(50_000);
    expect(FailureThrottle.blockedFor((held as { ttlMs: number }).ttlMs)).toEqual(await grants.state('shoplifter'));
    await auth.fail('shoplifter:1.2.3.4');
    expect(await codes.redeem(code, grant.clientId, limits)).toMatchObject({ over: 0 });
    // Under its limits (a fresh subject), the same code is still there to redeem, once.
    const free = [auth.limit('shoplifter:5.6.7.8'), grants.limit('other')];
    expect(await codes.redeem(code, grant.clientId, free)).toMatchObject({ ...grant, codeHash: sha256(code) });
    expect(await codes.redeem(code, grant.clientId, free)).toBeNull();
  });

  it('answers each of many redemptions in flight together for its own code: taken, mismatched, held back, or absent', async () => {
    const codes = new CodeStore(store);
    const good = await Promise.all(Array.from({ length: 12 }, () => codes.issue(grant)));
    const foreign = await codes.issue({ ...grant, clientId: 'other' });
    const held = await codes.issue(grant);
    const blocked = new FailureThrottle(store, `held-${Math.random()}`, 1, 60_000);
    await blocked.fail('shoplifter');
    const twice = good[0] as string;
    const answers = await Promise.all([
      ...good.map((c) => codes.redeem(c, grant.clientId)),
      codes.redeem(twice, grant.clientId),
      codes.redeem(foreign, grant.clientId),
      codes.redeem(held, grant.clientId, [blocked.limit('shoplifter')]),
      codes.redeem('never-issued', grant.clientId),
    ]);
    expect(
      answers
        .slice(0, 12)
        .map((a, i) => a !== null && typeof a === 'object' && 'codeHash' in a && a.codeHash === sha256(good[i] as string)),
    ).toEqual(Array(12).fill(true));
    expect(answers.slice(12)).toEqual([null, 'wrong_client', { over: 0, ttlMs: expect.any(Number) }, null]);
    // The held and the foreign code are still there for their own client, once.
    expect(await codes.redeem(held, grant.clientId)).toMatchObject({ clientId: grant.clientId });
    expect(await codes.redeem(foreign, 'other')).toMatchObject({ clientId: 'other' });
  });

  it('reads many keys in one call, absent ones as null', async () => {
    await store.set('many-a', 'A', 10_000);
    await store.set('many-c', 'C', 10_000);
    expect(await store.getMany(['many-a', 'many-b', 'many-c'])).toEqual(['A', null, 'C']);
  });

  it('flags a replayed code where the previous release reads it: replayed:<hash>, for the code life', async () => {
    const codes = new CodeStore(store, undefined, 60_000);
    const codeHash = sha256('replay-flag');
    await codes.flagReplay(codeHash);
    expect(await store.get(`replayed:${codeHash}`)).toBe('1');
    expect(await store.ttl(`replayed:${codeHash}`)).toBeGreaterThan(50_000);
  });

  it('puts a redeemed code back for its remaining life, once more redeemable; never an expired one or under another code', async () => {
    const clock = new FakeClock();
    const codes = new CodeStore(store, clock, 60_000);
    const code = await codes.issue(grant);
    clock.advance(20_000);
    const taken = await codes.redeem(code, grant.clientId);
    if (!taken || typeof taken !== 'object' || 'over' in taken) throw new Error('the code should redeem');
    await codes.restore('another-code', taken);
    expect(await codes.redeem('another-code', grant.clientId)).toBeNull();
    await codes.restore(code, taken);
    expect(await store.ttl(`code:${sha256(code)}`)).toBeLessThanOrEqual(40_000);
    expect(await codes.redeem(code, grant.clientId)).toMatchObject({ ...grant, codeHash: sha256(code), expiresAt: taken.expiresAt });
    clock.advance(40_001);
    await codes.restore(code, taken);
    expect(await store.get(`code:${sha256(code)}`)).toBeNull();
  });

  it('stores codes only under their hash', async () => {
    const codes = new CodeStore(store);
    const code = await codes.issue(grant);
    expect(await store.get(`code:${code}`)).toBeNull();
    expect(await store.get(`code:${sha256(code)}`)).not.toBeNull();
  });

  it('refuses an expired code (fake clock)', async () => {
    const clock = new FakeClock();
    const codes = new CodeStore(store, clock, 60_000);
    const code = await codes.issue(grant);
    clock.advance(60_001);
    expect(await codes.redeem(code, grant.clientId)).toBeNull();
  });

  it('bounds the configured code life to ten minutes', () => {
    expect(() => new CodeStore(store, undefined, 10 * 60_000 + 1)).toThrow(RangeError);
    expect(() => new CodeStore(store, undefined, 0)).toThrow(RangeError);
  });
});

describe('MemoryStore expiry follows its clock', () => {
  it('drops entries when the fake clock passes their life', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(clock);
    await store.set('k', 'v', 1000);
    clock.advance(999);
    expect(await store.get('k')).toBe('v');
    clock.advance(1);
    expect(await store.get('k')).toBeNull();
    await store.close();
  });
});

describe('RedisStore', () => {
  it('sends the redemptions made while one is in flight as one pipeline (one write), each still its own script', async () => {
    const store = redis.store;
    const codes = new CodeStore(store);
    const issued = await Promise.all(Array.from({ length: 10 }, () => codes.issue(grant)));
    const original = store.redis.pipeline.bind(store.redis);
    const sizes: number[] = [];
    store.redis.pipeline = ((...args: Parameters<typeof original>) => {
      const pipeline = original(...args);
      const exec = pipeline.exec.bind(pipeline);
      pipeline.exec = ((...a: Parameters<typeof exec>) => {
        sizes.push(pipeline.length);
        return exec(...a);
      }) as typeof exec;
      return pipeline;
    }) as typeof original;
    try {
      const answers = await Promise.all(issued.map((c) => codes.redeem(c, grant.clientId)));
      expect(answers.every((a) => a !== null && typeof a === 'object' && 'codeHash' in a)).toBe(true);
      // The first went alone, as a plain command; the nine made meanwhile went together.
      expect(sizes).toEqual([9]);
    } finally {
      store.redis.pipeline = original;
    }
  });
});

describe.each(backends)('FailureThrottle on %s', (_name, make) => {
  it('blocks a subject after max failures, with the time left, and resets', async () => {
    const throttle = new FailureThrottle(make(), `t${Math.random()}`, 3, 60_000);
    expect(await throttle.state('ada')).toEqual({ blocked: false, retryAfterSeconds: 0 });
    await throttle.fail('ada');
    await throttle.fail('ada');
    const third = await throttle.fail('ada');
    expect(third.blocked).toBe(true);
    expect(third.retryAfterSeconds).toBeGreaterThan(50);
    expect(third.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await throttle.state('ada')).blocked).toBe(true);
    expect((await throttle.state('grace')).blocked).toBe(false);
    await throttle.reset('ada');
    expect((await throttle.state('ada')).blocked).toBe(false);
  });

  it('reads a subject and other counters in one step (stateAmong): blocked while either is at its limit, the first one told', async () => {
    const store = make();
    const auth = new FailureThrottle(store, `a${Math.random()}`, 2, 60_000);
    const grants = new FailureThrottle(store, `g${Math.random()}`, 1, 30_000);
    const among = () => auth.stateAmong('ada', [grants.limit('shoplifter')]);
    expect(await among()).toEqual({ blocked: false, retryAfterSeconds: 0 });
    await grants.fail('shoplifter');
    const byGrants = await among();
    expect(byGrants).toEqual(await grants.state('shoplifter'));
    expect(byGrants.retryAfterSeconds).toBeLessThanOrEqual(30);
    await auth.fail('ada');
    expect((await among()).retryAfterSeconds).toBeLessThanOrEqual(30);
    await auth.fail('ada');
    const byAuth = await among();
    expect(byAuth).toEqual(await auth.state('ada'));
    expect(byAuth.retryAfterSeconds).toBeGreaterThan(30);
    await grants.reset('shoplifter');
    await auth.reset('ada');
    expect(await among()).toEqual({ blocked: false, retryAfterSeconds: 0 });
  });
});
