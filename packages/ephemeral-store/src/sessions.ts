// Server-side browser sessions for @fastify/session, kept in the ephemeral store under a hash of their id.
import { sha256 } from '@partner-oauth/service-kit';
import type { EphemeralStore } from './store.js';

type Callback<T = void> = (err?: unknown, result?: T) => void;

export class SessionStore {
  constructor(
    private readonly store: EphemeralStore,
    private readonly ttlMs: number,
  ) {}

  private key(sessionId: string): string {
    return `sess:${sha256(sessionId)}`;
  }

  set(sessionId: string, session: unknown, callback: Callback): void {
    this.store.set(this.key(sessionId), JSON.stringify(session), this.ttlMs).then(() => callback(), callback);
  }

  get(sessionId: string, callback: Callback<any>): void {
    this.store.get(this.key(sessionId)).then((raw) => callback(undefined, raw === null ? null : JSON.parse(raw)), callback);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.store.del(this.key(sessionId)).then(() => callback(), callback);
  }
}
