// Registration rules for redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1).
// The authorization endpoint compares by exact string; these rules keep anything
// dangerous from ever being registered.

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'filesystem:']);

/** One DNS label: letters, digits and inner hyphens (punycode included), at most 63 characters. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Whether a parsed URL's hostname is a real host: a DNS name of LDH labels, an IPv4 address or a
 * bracketed IPv6 one. The URL parser lets through characters such as `;` or `'` that would then travel
 * into headers (a CSP source) and pages.
 */
export function isValidHost(hostname: string): boolean {
  if (hostname.startsWith('[')) return /^\[[0-9a-f:.]+\]$/i.test(hostname);
  const name = hostname.toLowerCase();
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

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
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    // `https:a.example/cb` parses as if it had `//`: what is registered must say what it means.
    if (!/^https?:\/\/[^/?#]/i.test(uri)) return 'must have an authority (scheme://host/…)';
    if (!isValidHost(url.hostname)) return 'must name a valid host';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname) ? null : 'http is allowed only on loopback hosts; use https';
  }
  // RFC 8252 §7.1: private-use schemes for native apps, in reverse domain name form.
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/i.test(url.protocol)) return null;
  return `scheme ${url.protocol} is not allowed; use https, loopback http or a reverse-domain private-use scheme`;
}
