// service-kit's sha256, safeEqual and randomToken against the createHash / randomBytes forms they replaced (issue 13,
// docs/performance.md item 22), and digestEqual (item 35): nanoseconds per call, best of 5 rounds of 200,000 calls.
// Usage (after `pnpm exec turbo run build --filter @partner-oauth/service-kit`): node bench/scripts/crypto-micro.mjs
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { digestEqual, randomToken, safeEqual, sha256 } from '@partner-oauth/service-kit';

const N = 200_000;
const token = `poat_${randomBytes(32).toString('base64url')}`;
const other = `poat_${randomBytes(32).toString('base64url')}`;
const tokenDigest = sha256(token);
const otherDigest = sha256(other);
const cases = {
  'sha256, createHash (before)': () => createHash('sha256').update(token, 'utf8').digest('hex'),
  'sha256, crypto.hash (now)': () => sha256(token),
  'safeEqual, createHash (before)': () =>
    timingSafeEqual(createHash('sha256').update(token, 'utf8').digest(), createHash('sha256').update(other, 'utf8').digest()),
  'safeEqual, crypto.hash (now)': () => safeEqual(token, other),
  // Item 35: where both sides are already digests (a secret's stored hash, PKCE's S256).
  'digestEqual, two digests': () => digestEqual(tokenDigest, otherDigest),
  'token, randomBytes (before)': () => `poat_${randomBytes(32).toString('base64url')}`,
  'token, pooled (now)': () => randomToken(32, 'poat_'),
};
for (const [name, fn] of Object.entries(cases)) {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / N);
  }
  console.log(`${name.padEnd(32)} ${best.toFixed(0).padStart(6)} ns`);
}
