// Identifiers: random, unguessable, never derived from data.
import { randomBytes, randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

/** App ids in the platform's 24-hex style. */
export const newAppId = (): string => randomBytes(12).toString('hex');

/** Client ids: 20 lowercase base32-ish characters, easy to paste. */
export function newClientId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(20);
  let id = '';
  for (const b of bytes) id += alphabet[b & 31];
  return id;
}
