// ETag and If-Match for clients (RFC 9110 §8.8.3, §13.1.1), so two admins never silently overwrite each other.
import type { ClientRow } from '@partner-oauth/storage';
import { AdminApiError } from './admin-api-error.js';

/** A strong validator: the representation changes exactly when the revision does. */
export const etagOf = (row: Pick<ClientRow, 'revision'>): string => `"r${row.revision}"`;

/**
 * Checks If-Match against the current row. It is required (428): an update made without having seen
 * the current state is exactly the lost update this guards against; `*` says "overwrite whatever is there".
 */
export function assertIfMatch(header: string | undefined, row: Pick<ClientRow, 'revision'>): void {
  if (header === undefined || header.trim() === '') {
    throw new AdminApiError('precondition_required', 'if-match: is required; send the ETag of your last GET (or * to overwrite)');
  }
  if (header.trim() === '*') return;
  const current = etagOf(row);
  // A weak tag never matches in strong comparison (RFC 9110 §8.8.3.2); this server issues only strong ones.
  const tags = header.split(',').map((t) => t.trim());
  if (!tags.includes(current)) {
    throw new AdminApiError('precondition_failed', 'if-match: the client has changed since that ETag; GET it again', {
      headers: { etag: current },
    });
  }
}
