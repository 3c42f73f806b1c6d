// Secrets: CSPRNG values, SHA-256 for high-entropy secrets, scrypt for passwords, constant-time compares.
import { hash, randomBytes, randomFillSync, type ScryptOptions, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

/**
 * CSPRNG bytes drawn a pool at a time, as node:crypto's randomUUID does: one call into OpenSSL per 4 KiB instead of one
 * per token (3.2 -> 0.5 µs a token here). Each byte is handed out once; a used-up pool is replaced, never refilled in
 * place, so a slice already handed out never changes.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomSlice(bytes: number): Buffer {
  if (bytes > POOL_BYTES) return randomBytes(bytes);
  if (poolOffset + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return slice;
}

/** A URL-safe random value of `bytes` bytes of entropy, with an optional recognisable prefix. */
export function randomToken(bytes = 32, prefix = ''): string {
  return prefix + randomSlice(bytes).toString('base64url');
}

/** SHA-256 of a high-entropy secret, as hex: what is stored in its place. (One-shot crypto.hash: 1.9 -> 0.5 µs here.) */
export function sha256(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Constant-time string equality (compares digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(hash('sha256', a, 'buffer'), hash('sha256', b, 'buffer'));
}

/**
 * Constant-time equality of two digests (hex or base64url hashes, whose lengths are public): their bytes compared as
 * they are, without safeEqual's hashing of both (2.4 -> 0.2 µs here, docs/performance.md item 35). Digests of
 * unequal lengths are unequal. Not for a secret itself: hash it first (sha256), or use safeEqual.
 */
export function digestEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface PasswordHashParams {
  N: number;
  r: number;
  p: number;
}

/**
 * scrypt cost (RFC 7914) at one of OWASP's recommended points: N = 2^14, r = 8, p = 5 takes ~120 ms
 * and 16 MiB on a current core (the same strength as N = 2^17 with p = 1, at an eighth of the memory).
 */
export const DEFAULT_PASSWORD_PARAMS: PasswordHashParams = { N: 2 ** 14, r: 8, p: 5 };
const KEY_LENGTH = 32;

/**
 * Password hashes running at once in this process. Each takes 128·N·r bytes (16 MiB at the default
 * cost): a burst of sign-ins waits its turn instead of multiplying memory (and a login flood cannot
 * exhaust it).
 */
const MAX_CONCURRENT_HASHES = 1;
let running = 0;
const waiting: (() => void)[] = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function scrypt(password: string, salt: Buffer, params: PasswordHashParams): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return withHashSlot(
    () =>
      new Promise((resolve, reject) => {
        scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

/** `scrypt$N$r$p$salt$hash`, self-describing so the cost can be raised later. */
export async function hashPassword(password: string, params = DEFAULT_PASSWORD_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A stored hash to verify against when the account does not exist, so that an
 * unknown email costs the same time as a wrong password.
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomToken(16));
  return decoyHash;
}
