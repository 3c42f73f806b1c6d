import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CommonConfig, ConfigError, loadConfig, Type } from '../src/config.js';
import { digestEqual, hashPassword, randomToken, safeEqual, sha256, verifyPassword } from '../src/crypto.js';

describe('crypto', () => {
  it('makes 256-bit URL-safe tokens with the prefix', () => {
    const t = randomToken(32, 'pfx_');
    expect(t).toMatch(/^pfx_[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(randomToken());
  });
  it('hands each random byte out once, across the pool it draws from being replaced', () => {
    // Odd sizes, so tokens straddle where one 4 KiB pool ends; more than a pool's worth, and one larger than a pool.
    const sizes = Array.from({ length: 600 }, (_, i) => [32, 16, 7, 33][i % 4] as number);
    const tokens = sizes.map((n) => randomToken(n));
    tokens.push(randomToken(5000));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.slice(0, -1).map((t) => Buffer.from(t, 'base64url').length)).toEqual(sizes);
    expect(Buffer.from(tokens.at(-1) as string, 'base64url').length).toBe(5000);
    // No 32-byte window of one token reappears in another (a pool's bytes handed out twice would).
    const seen = new Set<string>();
    for (const t of tokens.slice(0, -1)) {
      const bytes = Buffer.from(t, 'base64url');
      for (let i = 0; i + 7 <= bytes.length; i += 7) {
        const window = bytes.subarray(i, i + 7).toString('hex');
        expect(seen.has(window)).toBe(false);
        seen.add(window);
      }
    }
  });
  it('hashes with SHA-256 hex', () => {
    expect(sha256('secret')).toBe('2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // UTF-8, as the stored hashes were computed (by createHash(...).update(value, 'utf8') before).
    for (const value of ['é ü 日本', 'emoji 🔑', 'a\u0000b']) {
      expect(sha256(value)).toBe(createHash('sha256').update(value, 'utf8').digest('hex'));
    }
  });
  it('compares in constant time, any lengths', () => {
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
  it('compares digests in constant time: equal, unequal, of other lengths, and of other bytes at one length', () => {
    const digest = sha256('a secret');
    expect(digestEqual(digest, sha256('a secret'))).toBe(true);
    expect(digestEqual(digest, sha256('another secret'))).toBe(false);
    expect(digestEqual(digest, digest.slice(0, 63))).toBe(false);
    expect(digestEqual(digest, '')).toBe(false);
    // One character each, two bytes against one in UTF-8: unequal, and no throw from the byte lengths.
    expect(digestEqual('é', 'e')).toBe(false);
    expect(digestEqual('é', 'é')).toBe(true);
  });
  it('hashes passwords with salted scrypt and verifies them', async () => {
    const params = { N: 1024, r: 8, p: 1 };
    const h1 = await hashPassword('lovelace-1815', params);
    const h2 = await hashPassword('lovelace-1815', params);
    expect(h1).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword('lovelace-1815', h1)).toBe(true);
    expect(await verifyPassword('lovelace-1816', h1)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});

describe('loadConfig', () => {
  const schema = Type.Object({ ...CommonConfig, PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535 }) });
  it('fills defaults and converts strings', () => {
    const c = loadConfig(schema, { PORT: '4000', TRUST_PROXY: 'true' });
    expect(c.PORT).toBe(4000);
    expect(c.TRUST_PROXY).toBe('true');
    expect(c.NODE_ENV).toBe('development');
  });
  it('names the bad setting', () => {
    expect(() => loadConfig(schema, { PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig(schema, { NODE_ENV: 'prod' })).toThrow(/NODE_ENV/);
  });
});
