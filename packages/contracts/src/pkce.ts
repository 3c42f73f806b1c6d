// PKCE values (RFC 7636): the syntax shared by code_verifier (§4.1) and an S256 code_challenge (§4.2).

const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 §4.1: 43 to 128 unreserved characters (a base64url S256 challenge is 43 of them). */
export function isPkceValue(value: string): boolean {
  return PKCE_VALUE.test(value);
}
