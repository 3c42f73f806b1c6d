// Server-side browser sessions for @fastify/session, kept in the ephemeral store under a hash of their id.
import { sha256 } from '@partner-oauth/service-kit';
import type { EphemeralStore } from './store.js';

type Callback<T = void> = (err?: unknown, result?: T) => void;

/** The store key of a session: its id is never stored, only its hash. */
export function sessionKey(sessionId: string): string {
  return `sess:${sha256(sessionId)}`;
}

export class SessionStore {
  constructor(
    private readonly store: EphemeralStore,
    private readonly ttlMs: number,
  ) {}

  set(sessionId: string, session: unknown, callback: Callback): void {
    this.store.set(sessionKey(sessionId), JSON.stringify(session), this.ttlMs).then(() => callback(), callback);
  }

  get(sessionId: string, callback: Callback<any>): void {
    this.store.get(sessionKey(sessionId)).then((raw) => callback(undefined, raw === null ? null : JSON.parse(raw)), callback);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.store.del(sessionKey(sessionId)).then(() => callback(), callback);
  }
}
