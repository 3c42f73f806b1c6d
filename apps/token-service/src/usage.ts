// "Last used" of an authorization, for the owner's Connected integrations page: noted on token exchange,
// tokenInfo and introspection, written at most once an hour per authorization and never on the request's path.
import type { Clock } from '@partner-oauth/service-kit';
import { type Db, recordAuthorizationUse, USAGE_RECORD_INTERVAL_MS } from '@partner-oauth/storage';
import type { FastifyBaseLogger } from 'fastify';

/** Bounds the memory of what this process recorded; past it, the memory starts over (a few extra no-op updates). */
const MAX_REMEMBERED = 10_000;

export class UsageRecorder {
  /** When this process last sent a record for each authorization (ms). */
  private readonly recorded = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Notes a use. Within the interval of this process's last record for the authorization, nothing is
   * sent (the introspection hot path adds no query); otherwise one conditional UPDATE runs in the
   * background, which writes nothing when another instance recorded a use within the interval.
   */
  note(authorizationId: string): void {
    const now = this.clock.now();
    const last = this.recorded.get(authorizationId);
    if (last !== undefined && now - last < USAGE_RECORD_INTERVAL_MS) return;
    if (this.recorded.size >= MAX_REMEMBERED) this.recorded.clear();
    this.recorded.set(authorizationId, now);
    recordAuthorizationUse(this.db, authorizationId, new Date(now)).catch((err: unknown) => {
      this.recorded.delete(authorizationId);
      this.log.warn({ reason: err instanceof Error ? err.message : String(err) }, 'could not record authorization use');
    });
  }
}
