// Production secrets must be generated, not copied from an example; TRUST_PROXY reads as Fastify's trustProxy does.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTrustProxy, sharedProductionProblems, weakSecretProblem } from '../src/index.js';

describe('weakSecretProblem', () => {
  it('refuses the placeholders of the examples, naming the setting (issue 17 item 1)', () => {
    for (const value of [
      'CHANGE_ME_AT_LEAST_32_RANDOM_CHARACTERS_000',
      'change-me-change-me-change-me-change-me',
      'dev-session-secret-not-for-production-0000000000',
      'replace-me-with-a-long-random-string-1234',
      '<32 random characters from openssl rand>',
    ]) {
      expect(weakSecretProblem('SESSION_SECRET', value), value).toMatch(/^SESSION_SECRET: looks like a placeholder/);
    }
  });

  it('refuses long but predictable values', () => {
    for (const value of [
      's'.repeat(40),
      '0123456789abcdef0123456789abcdef',
      'abababababababababababababababababab',
      'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb',
      'aaaabbbbccccddddaaaabbbbccccddddaaaabbbbccccdddd-',
    ]) {
      expect(weakSecretProblem('WEBHOOK_SIGNING_KEY', value), value).toMatch(/^WEBHOOK_SIGNING_KEY: too predictable/);
    }
  });

  // Regression: a random 16-byte hex key CI once refused (its characters' estimate fell under the old 100-bit floor).
  it('accepts a random hex key whose characters happen to repeat', () => {
    expect(weakSecretProblem('SESSION_SECRET', 'b28b9bb9cc92b89b4f55cc2a81abb98a')).toBeUndefined();
  });

  it('accepts what the documented generators make, every time', () => {
    for (let i = 0; i < 200; i++) {
      for (const value of [
        randomBytes(48).toString('base64'),
        randomBytes(32).toString('hex'),
        randomBytes(16).toString('hex'),
        randomBytes(24).toString('base64url'),
      ]) {
        expect(weakSecretProblem('SESSION_SECRET', value), value).toBeUndefined();
      }
    }
  });
});

describe('sharedProductionProblems', () => {
  const good = randomBytes(32).toString('base64');
  it('names each bad setting: a placeholder in a store URL, TRUST_PROXY=true', () => {
    expect(
      sharedProductionProblems(
        {
          TRUST_PROXY: 'true',
          DATABASE_URL: 'postgres://partner_oauth:CHANGE_ME@postgres-rw:5432/db',
          REDIS_URL: 'redis://:CHANGE_ME@redis:6379',
          KEY: good,
        },
        ['KEY'],
      ),
    ).toEqual([
      'DATABASE_URL: still carries a placeholder; set the real URL',
      'REDIS_URL: still carries a placeholder; set the real URL',
      'TRUST_PROXY: true lets any client choose its address; set the number of proxies in front (1 behind one gateway) or their addresses',
    ]);
    expect(sharedProductionProblems({ TRUST_PROXY: '1', DATABASE_URL: 'postgres://u:pw@db:5432/x', KEY: good }, ['KEY'])).toEqual([]);
  });
});

describe('parseTrustProxy', () => {
  it('reads booleans, a hop count and a list of addresses or ranges', () => {
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('true')).toBe(true);
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('10.0.0.0/8, 127.0.0.1,::1')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
  });

  it('refuses what is not an address, naming the setting', () => {
    expect(() => parseTrustProxy('10.0.0.300')).toThrow('TRUST_PROXY: 10.0.0.300 is not an address or CIDR range');
    expect(() => parseTrustProxy('10.0.0.0/40')).toThrow('TRUST_PROXY');
  });
});
