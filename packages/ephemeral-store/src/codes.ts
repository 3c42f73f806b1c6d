// Authorization codes (RFC 6749 §4.1.2, §10.5): stored under their hash, single use, short-lived.
import { type Clock, randomToken, sha256, systemClock, Type } from '@partner-oauth/service-kit';
import type { CounterLimit, EphemeralStore, OverLimit } from './store.js';

/** The request a code belongs to: everything the token endpoint needs, nothing from the browser. */
export interface CodeGrant {
  clientId: string;
  appId: string;
  accountId: string;
  redirectUri: string;
  /** Whether redirect_uri was sent at authorize (RFC 6749 §4.1.3: then the token request must repeat it). */
  redirectUriSent: boolean;
  scope: string;
  /** RFC 7636 S256 challenge, when the request carried one. */
  codeChallenge?: string | undefined;
  /**
   * What else the code is bound to, re-checked at redemption: the client's code epoch and the number of
   * ended authorizations of this partner on this app when the code was issued (storage's CodeBinding).
   */
  binding?: { epoch: string; endedGrants: number } | undefined;
}

export interface RedeemedCode extends CodeGrant {
  codeHash: string;
  issuedAt: number;
  expiresAt: number;
}

export const DEFAULT_CODE_TTL_MS = 5 * 60_000;
export const MAX_CODE_TTL_MS = 10 * 60_000;

/**
 * The code-life setting, spread into the config of the service that issues codes (authorize-ui) and of
 * the one that redeems them (token-service: a replayed code's marker lives as long).
 */
export const CodeConfig = {
  CODE_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: MAX_CODE_TTL_MS / 1000, default: DEFAULT_CODE_TTL_MS / 1000 }),
};

export class CodeStore {
  readonly ttlMs: number;
  constructor(
    private readonly store: EphemeralStore,
    private readonly clock: Clock = systemClock,
    ttlMs = DEFAULT_CODE_TTL_MS,
  ) {
    if (!(ttlMs > 0 && ttlMs <= MAX_CODE_TTL_MS)) throw new RangeError(`code life must be in (0, ${MAX_CODE_TTL_MS}] ms`);
    this.ttlMs = ttlMs;
  }

  private key(codeHash: string): string {
    return `code:${codeHash}`;
  }

  /** Mints a code for `grant`; resolves only once it is stored. */
  async issue(grant: CodeGrant): Promise<string> {
    const code = randomToken(32);
    const issuedAt = this.clock.now();
    const record = { ...grant, issuedAt, expiresAt: issuedAt + this.ttlMs };
    await this.store.set(this.key(sha256(code)), JSON.stringify(record), this.ttlMs);
    return code;
  }

  /**
   * Consumes the code for `clientId`: the first caller gets its grant, every later one null. Expired codes
   * give null. A code bound to another client is left untouched ('wrong_client'), so a partner holding a
   * leaked code cannot burn it before its rightful client redeems it. While one of `limits` (the caller's
   * throttles) is reached the code is left untouched too, and which limit held it back is answered instead.
   */
  async redeem(
    code: string,
    clientId: string,
    limits: readonly CounterLimit[] = [],
  ): Promise<RedeemedCode | 'wrong_client' | OverLimit | null> {
    const codeHash = sha256(code);
    const raw = await this.store.takeIfMatches(this.key(codeHash), 'clientId', clientId, limits);
    if (raw === null) return null;
    if (raw === 'mismatch') return 'wrong_client';
    if (typeof raw !== 'string') return raw;
    const record = JSON.parse(raw) as Omit<RedeemedCode, 'codeHash'>;
    if (record.expiresAt <= this.clock.now()) return null;
    return { ...record, codeHash };
  }

  /**
   * Puts a redeemed code back, for its remaining life, when what it was redeemed for certainly did not happen (the
   * token's write was never sent): the partner's retry finds it. A replay marked meanwhile (in Postgres) still refuses it.
   */
  async restore(code: string, grant: RedeemedCode): Promise<void> {
    const { codeHash, ...record } = grant;
    const left = record.expiresAt - this.clock.now();
    if (codeHash !== sha256(code) || left <= 0) return;
    await this.store.set(this.key(codeHash), JSON.stringify(record), left);
  }

  /**
   * Records that a code was presented again after its use (RFC 6749 §4.1.2), for token-service instances of the release
   * before 0011 during a rolling deploy: they read it after their commit. Since 0011 the rule is held in Postgres
   * (storage's revokeTokensFromCode); this flag goes with the release after.
   */
  async flagReplay(codeHash: string): Promise<void> {
    await this.store.set(`replayed:${codeHash}`, '1', this.ttlMs);
  }
}
