// Token introspection (RFC 7662), token info and revocation (RFC 7009) wire shapes.
import { type Static, Type } from 'typebox';
import { Param } from './params.js';

/** Form body of POST /oauth/introspect and POST /oauth/revoke; loose so the steps give RFC errors. */
export const TokenParamRequest = Type.Object(
  {
    token: Type.Optional(Param),
    token_type_hint: Type.Optional(Param),
    client_id: Type.Optional(Param),
    client_secret: Type.Optional(Param),
  },
  { additionalProperties: Param },
);
export type TokenParamRequest = Static<typeof TokenParamRequest>;

export const IntrospectionResponse = Type.Object({
  active: Type.Boolean(),
  client_id: Type.Optional(Type.String()),
  app_id: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  /** The account that granted the access. */
  sub: Type.Optional(Type.String()),
  iat: Type.Optional(Type.Integer()),
  /** Only for an expiring token (RFC 7662 §2.2): seconds since the epoch. */
  exp: Type.Optional(Type.Integer()),
  token_type: Type.Optional(Type.Literal('Bearer')),
  iss: Type.Optional(Type.String()),
});
export type IntrospectionResponse = Static<typeof IntrospectionResponse>;

export const TokenInfoResponse = Type.Object({
  app: Type.Object({ id: Type.String(), name: Type.String() }),
  client: Type.Object({ id: Type.String(), name: Type.String() }),
  scope: Type.String(),
  token_type: Type.Literal('Bearer'),
  created_at: Type.String({ format: 'date-time' }),
  /** Only for an expiring token (a client with expiring tokens on); absent for the spec's tokens, live until revoked. */
  expires_at: Type.Optional(Type.String({ format: 'date-time' })),
});
export type TokenInfoResponse = Static<typeof TokenInfoResponse>;

export const EmptyObject = Type.Object({}, { additionalProperties: false });

/** RFC 8414 §2 authorization server metadata. */
export const AuthorizationServerMetadata = Type.Object({
  issuer: Type.String(),
  authorization_endpoint: Type.String(),
  token_endpoint: Type.String(),
  revocation_endpoint: Type.String(),
  introspection_endpoint: Type.String(),
  response_types_supported: Type.Array(Type.String()),
  response_modes_supported: Type.Array(Type.String()),
  grant_types_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
  introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
  code_challenge_methods_supported: Type.Array(Type.String()),
  scopes_supported: Type.Array(Type.String()),
  authorization_response_iss_parameter_supported: Type.Boolean(),
  service_documentation: Type.Optional(Type.String()),
});
export type AuthorizationServerMetadata = Static<typeof AuthorizationServerMetadata>;

/** Body of the removal notification POSTed to a partner's remove_url. */
export const RemovalNotification = Type.Object({
  type: Type.Literal('authorization.removed'),
  id: Type.String(),
  client_id: Type.String(),
  app_id: Type.String(),
  reason: Type.Union([
    Type.Literal('partner_revoked'),
    Type.Literal('token_revoked'),
    Type.Literal('owner_removed'),
    Type.Literal('admin_removed'),
    Type.Literal('client_deleted'),
    /** A refresh token already rotated was presented again (RFC 9700 §4.14.2): the whole family ended. */
    Type.Literal('refresh_token_reused'),
  ]),
  removed_at: Type.String({ format: 'date-time' }),
});
export type RemovalNotification = Static<typeof RemovalNotification>;
export type RemovalReason = RemovalNotification['reason'];

/** The one place the notification's body is made: the outbox stores it, packages/webhooks signs and sends it. */
export function removalNotification(notice: {
  id: string;
  clientId: string;
  appId: string;
  reason: RemovalReason;
  removedAt: Date;
}): RemovalNotification {
  return {
    type: 'authorization.removed',
    id: notice.id,
    client_id: notice.clientId,
    app_id: notice.appId,
    reason: notice.reason,
    removed_at: notice.removedAt.toISOString(),
  };
}
