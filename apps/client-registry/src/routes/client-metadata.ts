// Checks on client metadata that JSON Schema cannot express: redirect URI rules, duplicates, https-only URLs.
import { redirectUriProblem } from '@partner-oauth/contracts';
import { AdminApiError } from '../errors.js';

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
export function webUrlProblem(value: string, opts: { allowLoopbackHttp: boolean }): string | null {
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
  if (url.hostname === '') return expectation;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && opts.allowLoopbackHttp && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return expectation;
}

/** Throws invalid_client_metadata for a client_uri or logo_uri browsers should not be sent to. */
export function assertClientUrls(urls: { client_uri?: string | null | undefined; logo_uri?: string | null | undefined }): void {
  // A partner's home page may be a local dev server; a logo is fetched by users' browsers, so https only.
  const checks = [
    ['client_uri', urls.client_uri, true],
    ['logo_uri', urls.logo_uri, false],
  ] as const;
  for (const [field, value, allowLoopbackHttp] of checks) {
    if (value === undefined || value === null) continue;
    const problem = webUrlProblem(value, { allowLoopbackHttp });
    if (problem) throw new AdminApiError('invalid_client_metadata', `${field}: ${problem}`);
  }
}
