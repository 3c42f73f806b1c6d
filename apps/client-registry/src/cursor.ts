// Opaque list cursors: base64url of the last client_id seen, so callers never build them by hand.
import { AdminApiError } from './admin-api-error.js';

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

export function encodeCursor(clientId: string): string {
  return Buffer.from(clientId, 'utf8').toString('base64url');
}

/** The client_id inside `cursor`; a 400 for anything this server did not produce. */
export function decodeCursor(cursor: string): string {
  // Node's decoder skips bad characters instead of failing, so check the alphabet and round-trip.
  const clientId = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!CLIENT_ID.test(clientId) || encodeCursor(clientId) !== cursor) throw invalidCursor();
  return clientId;
}

export function invalidCursor(): AdminApiError {
  return new AdminApiError('invalid_request', 'cursor: is not a cursor returned by this API');
}
