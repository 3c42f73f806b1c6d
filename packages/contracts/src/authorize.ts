// Wire shapes of authorize-ui: the authorization request (RFC 6749 §4.1.1), login and consent forms.
import { type Static, Type } from 'typebox';
import { LooseParam as Param } from './params.js';

/**
 * RFC 6749 §4.1.1. Every field is accepted loosely here so the handler, not the
 * schema validator, decides between the error page and an error redirect.
 */
export const AuthorizeQuery = Type.Object(
  {
    client_id: Type.Optional(Param),
    response_type: Type.Optional(Param),
    redirect_uri: Type.Optional(Param),
    state: Type.Optional(Param),
    scope: Type.Optional(Param),
    code_challenge: Type.Optional(Param),
    code_challenge_method: Type.Optional(Param),
  },
  { additionalProperties: Param },
);
export type AuthorizeQuery = Static<typeof AuthorizeQuery>;

export const LoginQuery = Type.Object({
  return_to: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type LoginQuery = Static<typeof LoginQuery>;

export const LoginForm = Type.Object({
  email: Type.String({ maxLength: 320 }),
  password: Type.String({ maxLength: 1024 }),
  return_to: Type.Optional(Type.String({ maxLength: 4096 })),
  _csrf: Type.Optional(Type.String({ maxLength: 256 })),
});
export type LoginForm = Static<typeof LoginForm>;

export const PickAppQuery = Type.Object({
  request_id: Type.String({ minLength: 1, maxLength: 128 }),
});
export type PickAppQuery = Static<typeof PickAppQuery>;

export const ConsentQuery = Type.Object({
  request_id: Type.String({ minLength: 1, maxLength: 128 }),
  app_id: Type.String({ minLength: 1, maxLength: 128 }),
});
export type ConsentQuery = Static<typeof ConsentQuery>;

export const DecisionForm = Type.Object({
  request_id: Type.String({ minLength: 1, maxLength: 128 }),
  app_id: Type.String({ minLength: 1, maxLength: 128 }),
  decision: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  _csrf: Type.Optional(Type.String({ maxLength: 256 })),
});
export type DecisionForm = Static<typeof DecisionForm>;

export const LogoutForm = Type.Object({
  _csrf: Type.Optional(Type.String({ maxLength: 256 })),
});
export type LogoutForm = Static<typeof LogoutForm>;
