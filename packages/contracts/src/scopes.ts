// The scope catalogue (RFC 6749 §3.3): what a partner may be allowed to do on an app, in plain language.

export const SCOPES = {
  'app:read': 'See the app’s name and basic settings',
  'conversations:read': 'Read the app’s conversations and messages',
  'conversations:write': 'Send messages and manage conversations in the app',
  'users:read': 'See the app’s users and their profiles',
  'webhooks:manage': 'Create and manage its own webhooks on the app',
} as const;

export type ScopeName = keyof typeof SCOPES;
export const SCOPE_NAMES = Object.keys(SCOPES) as ScopeName[];

export function isScopeName(value: string): value is ScopeName {
  return Object.hasOwn(SCOPES, value);
}

/** RFC 6749 §3.3 scope-token syntax: printable ASCII without space, quote or backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Splits a scope parameter into its tokens, de-duplicated and in catalogue order.
 * Returns null when the syntax is wrong (empty tokens from repeated spaces are allowed and dropped).
 */
export function parseScope(value: string): string[] | null {
  const tokens = value.split(' ').filter((t) => t !== '');
  if (!tokens.every((t) => SCOPE_TOKEN.test(t))) return null;
  const unique = [...new Set(tokens)];
  const order = (t: string) => (isScopeName(t) ? SCOPE_NAMES.indexOf(t) : SCOPE_NAMES.length);
  return unique.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

export const formatScope = (scopes: readonly string[]): string => scopes.join(' ');

/** Scope tokens a client is not allowed (unknown ones included). */
export function disallowedScopes(requested: readonly string[], allowed: readonly string[]): string[] {
  return requested.filter((s) => !isScopeName(s) || !allowed.includes(s));
}
