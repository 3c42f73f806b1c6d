// Production refuses a secret that is a placeholder or too predictable to be one, and a proxy setting that trusts every hop.
import { isIP } from 'node:net';
import { ConfigError } from './config.js';

/** Words found in example and development values, never in a generated secret (`openssl rand -base64 48`). */
const PLACEHOLDER = /change.?me|placeholder|replace.?me|your.?(secret|key|password)|not.?for.?production|example|<[^>]*>|\.\.\./i;

/*
 * Floors for the estimate from a value's own characters. The estimate undercounts short values over a small
 * alphabet: a random 32-character hex key (128 bits) sometimes estimates under 100 bits, so the floors sit where
 * no generated value falls (a random 32-hex estimates at least ~90 bits and shows ~14 distinct characters), and
 * still refuse a value made of a few characters ("aaaa…bbbb…" estimates 32 bits, 2 distinct).
 */
export const MIN_SECRET_BITS = 64;
export const MIN_DISTINCT_CHARACTERS = 8;

/** Shannon entropy of the value's character distribution times its length: a rough upper bound on its randomness. */
export function estimatedBits(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...value].length;
  let perChar = 0;
  for (const c of counts.values()) perChar -= (c / n) * Math.log2(c / n);
  return perChar * n;
}

/** The shortest period the value repeats with ("abcabcabc" -> 3), or its length when it does not repeat. */
function period(value: string): number {
  for (let p = 1; p <= value.length / 2; p++) {
    if (value.length % p === 0 && value.slice(0, p).repeat(value.length / p) === value) return p;
  }
  return value.length;
}

/** Why `value` cannot be the secret named `name` in production, as a config problem line; undefined when it may. */
export function weakSecretProblem(name: string, value: string): string | undefined {
  if (PLACEHOLDER.test(value)) return `${name}: looks like a placeholder; set a generated secret (openssl rand -base64 48)`;
  if (period(value) < value.length || new Set(value).size < MIN_DISTINCT_CHARACTERS || estimatedBits(value) < MIN_SECRET_BITS)
    return `${name}: too predictable to be a generated secret; set one from openssl rand -base64 48`;
  return undefined;
}

/** Why a connection URL still carries a placeholder password in production; undefined when it does not. */
export function placeholderUrlProblem(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && PLACEHOLDER.test(value)) return `${name}: still carries a placeholder; set the real URL`;
  return undefined;
}

/** What Fastify's `trustProxy` takes: false, true (every hop), a hop count, or the proxies' addresses / CIDR ranges. */
export type TrustProxy = boolean | number | string[];

/**
 * Reads TRUST_PROXY. A hop count trusts exactly that many proxies (the address is the one the nearest gateway saw,
 * whatever a client wrote in X-Forwarded-For); a list trusts only those proxies; `true` trusts every hop, so any client
 * chooses its own address, and production refuses it.
 */
export function parseTrustProxy(value: string | boolean | number): TrustProxy {
  if (typeof value === 'boolean' || typeof value === 'number') return value;
  const v = value.trim();
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v.split(',').map((s) => s.trim());
  for (const entry of list) {
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || (bits !== undefined && !(Number(bits) >= 0 && Number(bits) <= maxBits)))
      throw new ConfigError(`TRUST_PROXY: ${entry} is not an address or CIDR range`);
  }
  return list;
}

/**
 * The production checks every service shares, one line per bad setting: each named secret generated (not a placeholder,
 * not predictable), the store URLs free of placeholders, and TRUST_PROXY not trusting every hop.
 */
export function sharedProductionProblems(
  config: { TRUST_PROXY: string; DATABASE_URL?: string | undefined; REDIS_URL?: string | undefined } & Record<string, unknown>,
  secretNames: string[],
): string[] {
  const problems: (string | undefined)[] = secretNames.map((name) => weakSecretProblem(name, String(config[name] ?? '')));
  problems.push(placeholderUrlProblem('DATABASE_URL', config.DATABASE_URL), placeholderUrlProblem('REDIS_URL', config.REDIS_URL));
  if (config.TRUST_PROXY.trim() === 'true')
    problems.push(
      'TRUST_PROXY: true lets any client choose its address; set the number of proxies in front (1 behind one gateway) or their addresses',
    );
  return problems.filter((p): p is string => p !== undefined);
}

/** What refuseUnsafeProduction reads: CommonConfig and the app's issuer. */
export type ProductionCheckedConfig = {
  NODE_ENV: string;
  ISSUER: string;
  TRUST_PROXY: string;
  DATABASE_URL?: string | undefined;
  REDIS_URL?: string | undefined;
} & Record<string, unknown>;

/**
 * In production, throws one ConfigError naming every unsafe setting at once: each secret of `developmentSecrets`
 * still unset or at its development value, an issuer that is not https, and the shared problems above. Every app's
 * config loader ends with it; outside production it does nothing.
 */
export function refuseUnsafeProduction(config: ProductionCheckedConfig, developmentSecrets: Record<string, string>): void {
  if (config.NODE_ENV !== 'production') return;
  const names = Object.keys(developmentSecrets);
  const atDevelopmentValue = names.filter((name) => !config[name] || config[name] === developmentSecrets[name]);
  const problems = atDevelopmentValue.map((name) => `${name}: must be set in production, to something other than the development key`);
  if (!config.ISSUER.startsWith('https://')) problems.push('ISSUER: must be an https URL in production');
  problems.push(
    ...sharedProductionProblems(
      config,
      names.filter((name) => !atDevelopmentValue.includes(name)),
    ),
  );
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}
