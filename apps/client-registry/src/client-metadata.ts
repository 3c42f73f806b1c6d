// Checks on client metadata that JSON Schema cannot express: redirect URI rules, duplicates, https-only URLs, scopes.
import { isScopeName, parseScope, redirectUriProblem } from '@partner-oauth/contracts';
import { type OutboundPolicy, outboundUrlProblem } from '@partner-oauth/webhooks';
import { AdminApiError } from './admin-api-error.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Throws invalid_redirect_uri naming the first URI that may not be registered. */
export function assertRedirectUris(uris: readonly string[]): void {
  const seen = new Map<string, number>();
  uris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) throw new AdminApiError('invalid_redirect_uri', `redirect_uris[${i}]: ${problem}`);
    // Exact-string matching at /oauth/authorize makes a duplicate pointless, and it usually hides a typo.
    const first = seen.get(uri);
    if (first !== undefined) throw new AdminApiError('invalid_redirect_uri', `redirect_uris[${i}]: duplicates redirect_uris[${first}]`);
    seen.set(uri, i);
  });
}

/** Why `value` is not an acceptable absolute https URL (http allowed on loopback when asked), or null. */
export function webUrlProblem(value: string, opts: { allowLoopbackHttp: boolean; allowFragment?: boolean }): string | null {
  const expectation = opts.allowLoopbackHttp
    ? 'must be an absolute https URL (http only on loopback hosts)'
    : 'must be an absolute https URL';
  // The URL parser silently strips tabs, newlines and outer spaces; what is stored must be what was checked.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u0020\u007f\\]/.test(value)) return 'must not contain spaces, control characters or backslashes';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return expectation;
  }
  if (url.username !== '' || url.password !== '') return 'must not contain userinfo';
  // Checked on the text: an empty fragment ("…#") leaves url.hash empty.
  if (opts.allowFragment === false && value.includes('#')) return 'must not contain a fragment';
  if (url.hostname === '') return expectation;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && opts.allowLoopbackHttp && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return expectation;
}

/** Throws invalid_client_metadata for a client_uri, logo_uri, policy_uri or tos_uri browsers should not be sent to. */
export function assertClientUrls(urls: {
  client_uri?: string | null | undefined;
  logo_uri?: string | null | undefined;
  policy_uri?: string | null | undefined;
  tos_uri?: string | null | undefined;
}): void {
  // A partner's pages may be on a local dev server; a logo is fetched by users' browsers, so https only.
  const checks = [
    ['client_uri', urls.client_uri, true],
    ['logo_uri', urls.logo_uri, false],
    ['policy_uri', urls.policy_uri, true],
    ['tos_uri', urls.tos_uri, true],
  ] as const;
  for (const [field, value, allowLoopbackHttp] of checks) {
    if (value === undefined || value === null) continue;
    const problem = webUrlProblem(value, { allowLoopbackHttp });
    if (problem) throw new AdminApiError('invalid_client_metadata', `${field}: ${problem}`);
  }
}

/** Throws invalid_client_metadata for a remove_url notifications must not be POSTed to; null clears it. */
export function assertRemoveUrl(value: string | null | undefined, policy: OutboundPolicy): void {
  if (value === undefined || value === null) return;
  // The servers POST to it: besides the shape rules, it must not aim them at this machine or a private network
  // (loopback only in development, where a partner tests against a local server; delivery checks the address again).
  const problem =
    webUrlProblem(value, { allowLoopbackHttp: policy.allowLoopback, allowFragment: false }) ?? outboundUrlProblem(value, policy);
  if (problem) throw new AdminApiError('invalid_client_metadata', `remove_url: ${problem}`);
}

const quoted = (tokens: readonly string[]): string => tokens.map((t) => `"${t}"`).join(', ');

function parseScopeField(field: 'scope' | 'default_scope', value: string): string[] {
  const tokens = parseScope(value);
  // parseScope refuses quotes and backslashes, so the tokens named in messages below cannot break out of their quotes.
  if (tokens === null) throw new AdminApiError('invalid_client_metadata', `${field}: must be scope tokens separated by spaces`);
  return tokens;
}

/** The allowed scopes in catalogue order; throws invalid_client_metadata naming any scope not in the catalogue. */
export function parseAllowedScopes(value: string): string[] {
  const tokens = parseScopeField('scope', value);
  // A client allowed nothing could never be issued a token: that is disabling it, which `status` already says.
  if (tokens.length === 0) throw new AdminApiError('invalid_client_metadata', 'scope: must name at least one scope');
  const unknown = tokens.filter((t) => !isScopeName(t));
  if (unknown.length > 0) {
    throw new AdminApiError('invalid_client_metadata', `scope: unknown scope${unknown.length > 1 ? 's' : ''} ${quoted(unknown)}`);
  }
  return tokens;
}

/** The default scopes in catalogue order (possibly none); throws invalid_client_metadata unless they are a subset of `allowed`. */
export function parseDefaultScope(value: string, allowed: readonly string[]): string[] {
  const tokens = parseScopeField('default_scope', value);
  assertDefaultWithinAllowed(tokens, allowed, 'default_scope: must be a subset of scope; not allowed:');
  return tokens;
}

/** Throws invalid_client_metadata when `defaults` names a scope outside `allowed`, starting the message with `lead`. */
export function assertDefaultWithinAllowed(defaults: readonly string[], allowed: readonly string[], lead: string): void {
  const outside = defaults.filter((t) => !allowed.includes(t));
  if (outside.length > 0) throw new AdminApiError('invalid_client_metadata', `${lead} ${quoted(outside)}`);
}

/** The one rule of the expiring-token lifetimes JSON Schema cannot express: a refresh token's idle life fits in its absolute one. */
export function assertTokenLifetimes(idle: number, absolute: number): void {
  if (idle > absolute) {
    throw new AdminApiError(
      'invalid_client_metadata',
      `refresh_token_idle_lifetime (${idle}) must not exceed refresh_token_absolute_lifetime (${absolute})`,
    );
  }
}
