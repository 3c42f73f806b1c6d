// Reading the Bearer token from the Authorization header only (RFC 6750 §2.1) and the §3 challenges: the one parser of the
// token service and of the resource servers' plugin (packages/fastify-bearer).

/** RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const SCHEME = /^([^\s]+)/;

export type HeaderResult =
  | { kind: 'token'; token: string }
  /** No credentials, or credentials of another scheme: §3.1 says answer without an error code. */
  | { kind: 'missing' }
  | { kind: 'malformed'; description: string };

export function readAuthorization(header: string | undefined): HeaderResult {
  if (header === undefined || header.trim() === '') return { kind: 'missing' };
  const scheme = SCHEME.exec(header.trim())?.[1] ?? '';
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'missing' };
  const match = BEARER.exec(header.trim());
  if (!match?.[1]) return { kind: 'malformed', description: 'malformed Bearer authorization header' };
  return { kind: 'token', token: match[1] };
}

/** An RFC 6750 §3 WWW-Authenticate value; attribute values are constants of the caller, never request input. */
export function challenge(realm: string, attrs: { error?: string; error_description?: string; scope?: string } = {}): string {
  const parts = [`realm="${realm}"`];
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) parts.push(`${name}="${value}"`);
  return `Bearer ${parts.join(', ')}`;
}
