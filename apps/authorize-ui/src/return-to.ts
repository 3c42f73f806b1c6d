// Where to send the browser after login: only a path on this site, never another origin (open redirect).

/** Returns a same-origin path for `value`, or `fallback` when it could lead anywhere else. */
export function safeReturnTo(value: string | undefined, fallback = '/'): string {
  if (!value?.startsWith('/') || value.startsWith('//')) return fallback;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return fallback;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return fallback;
  }
  // Encoded slashes, backslashes or control characters (which URL parsers strip: /%09/evil) could turn into an authority once decoded by someone else.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused
  if (decoded.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(decoded)) return fallback;
  const base = 'http://return-to.invalid';
  const url = new URL(value, base);
  if (url.origin !== base) return fallback;
  const normalized = `${url.pathname}${url.search}`;
  // Dot segments are resolved only now (/.//evil, /%2e%2e//evil, /a/..//evil all become //evil): the value we
  // hand back must pass the same checks, or a browser reads it as another origin. Normalizing is idempotent.
  if (normalized !== value && safeReturnTo(normalized, fallback) !== normalized) return fallback;
  return normalized;
}

/** The login page, coming back to `returnTo` (a path on this site) once signed in. */
export function loginUrl(returnTo: string): string {
  return `/login?${new URLSearchParams({ return_to: returnTo }).toString()}`;
}
