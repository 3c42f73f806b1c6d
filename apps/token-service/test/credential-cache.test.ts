// CredentialCache: a client's credentials answer from memory only within the window, and the cache stays bounded.
import { describe, expect, it } from 'vitest';
import { CREDENTIAL_CACHE_MS, CredentialCache } from '../src/client-auth.js';

const record = (clientId: string) => ({
  clientId,
  status: 'active' as const,
  secrets: [{ id: `sec-${clientId}`, secret_hash: 'a'.repeat(64), last_used_at: null }],
  lifetimes: null,
});

describe('CredentialCache', () => {
  it('answers within its window, one second as token-service builds it, and forgets at its end (and for a clock that went back)', () => {
    expect(CREDENTIAL_CACHE_MS).toBe(1_000);
    const cache = new CredentialCache();
    cache.set('p', record('p'), 10_000);
    expect(cache.get('p', 10_999)?.clientId).toBe('p');
    expect(cache.get('p', 11_000)).toBeUndefined();
    cache.set('p', record('p'), 20_000);
    expect(cache.get('p', 19_000)).toBeUndefined();
    expect(cache.get('unknown', 20_000)).toBeUndefined();
  });

  it('holds at most its size, dropping the oldest entry first', () => {
    const cache = new CredentialCache(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) cache.set(id, record(id), 0);
    expect(['a', 'b', 'c', 'd'].map((id) => cache.get(id, 1) !== undefined)).toEqual([false, true, true, true]);
  });
});
