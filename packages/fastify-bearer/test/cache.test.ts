// The bounded expiring cache behind introspection answers, on a hand-driven clock.
import { describe, expect, it } from 'vitest';
import { TtlLruCache } from '../src/cache.js';
import { parseIntrospection } from '../src/introspection.js';

describe('TtlLruCache', () => {
  it('expires entries at their deadline', () => {
    let now = 0;
    const cache = new TtlLruCache<string>(10, () => now);
    cache.set('k', 'v', 1000);
    now = 999;
    expect(cache.get('k')).toBe('v');
    now = 1000;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new TtlLruCache<number>(2, () => 0);
    cache.set('a', 1, 10);
    cache.set('b', 2, 10);
    cache.get('a');
    cache.set('c', 3, 10);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  });

  it('does not store what is already expired, nor anything with max 0', () => {
    const cache = new TtlLruCache<number>(0, () => 5);
    cache.set('a', 1, 10);
    expect(cache.get('a')).toBeUndefined();
    const other = new TtlLruCache<number>(5, () => 5);
    other.set('a', 1, 5);
    expect(other.size).toBe(0);
  });
});

describe('parseIntrospection', () => {
  const active = { active: true, client_id: 'c', app_id: 'a', sub: 's', scope: 'app:read  users:read', token_type: 'Bearer' };

  it('reads an active answer, splitting the scope', () => {
    expect(parseIntrospection(active)).toEqual({
      active: true,
      bearer: { clientId: 'c', appId: 'a', sub: 's', scope: ['app:read', 'users:read'] },
    });
  });

  it('fails closed on anything else', () => {
    expect(parseIntrospection({ active: false })).toEqual({ active: false });
    expect(parseIntrospection({ ...active, token_type: 'refresh_token' })).toEqual({ active: false });
    expect(parseIntrospection({ ...active, exp: Math.floor(Date.now() / 1000) - 1 })).toEqual({ active: false });
    for (const body of [null, 'active', {}, { active: 'true' }, { ...active, app_id: undefined }, { ...active, scope: 3 }]) {
      expect(parseIntrospection(body)).toBeUndefined();
    }
  });
});
