// Wire shapes of token-service: the token request and response (RFC 6749 §4.1.3, §5.1, §6).
import { type Static, Type } from 'typebox';
import { Param } from './params.js';

/**
 * The form body of POST /oauth/token. Loose on purpose: the endpoint's own steps
 * turn a missing, repeated or wrong parameter into the RFC 6749 §5.2 error.
 */
export const TokenRequest = Type.Object(
  {
    grant_type: Type.Optional(Param),
    code: Type.Optional(Param),
    client_id: Type.Optional(Param),
    client_secret: Type.Optional(Param),
    redirect_uri: Type.Optional(Param),
    code_verifier: Type.Optional(Param),
    /** grant_type=refresh_token (RFC 6749 §6). */
    refresh_token: Type.Optional(Param),
    scope: Type.Optional(Param),
  },
  { additionalProperties: Param },
);
export type TokenRequest = Static<typeof TokenRequest>;

export const TokenResponse = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    app_id: Type.String(),
    scope: Type.Optional(Type.String()),
    /** Only for a client with expiring tokens on (RFC 6749 §5.1): seconds until the access token expires. */
    expires_in: Type.Optional(Type.Integer()),
    /** Only for a client with expiring tokens on: single use, rotated on each refresh (RFC 6749 §6, RFC 9700 §4.14.2). */
    refresh_token: Type.Optional(Type.String()),
  },
  { $id: 'TokenResponse' },
);
export type TokenResponse = Static<typeof TokenResponse>;
