// Registration rules for redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1).
// The authorization endpoint compares by exact string; these rules keep anything
// dangerous from ever being registered.

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'filesystem:']);

/** Returns why `uri` may not be registered, or null when it may. */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length === 0) return 'must not be empty';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u0020\u007f\\]/.test(uri)) return 'must not contain spaces, control characters or backslashes';
  if (uri.includes('*')) return 'must not contain wildcards';
  if (uri.includes('#')) return 'must not contain a fragment';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `scheme ${url.protocol} is not allowed`;
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?]*@/i.test(uri)) {
    return 'must not contain userinfo';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname) ? null : 'http is allowed only on loopback hosts; use https';
  }
  // RFC 8252 §7.1: private-use schemes for native apps, in reverse domain name form.
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/i.test(url.protocol)) return null;
  return `scheme ${url.protocol} is not allowed; use https, loopback http or a reverse-domain private-use scheme`;
}
