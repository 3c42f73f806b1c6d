// Wire shapes of token-service: the token request and response (RFC 6749 §4.1.3, §5.1).
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
  },
  { $id: 'TokenResponse' },
);
export type TokenResponse = Static<typeof TokenResponse>;
