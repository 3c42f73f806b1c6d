// Wire shapes of the client-registry's secrets, installations, button and audit log (admin API, /v1).
import { type Static, Type } from 'typebox';

/** The longest overlap a rotation may give the old secret: 30 days. */
export const MAX_ROTATION_OVERLAP_SECONDS = 30 * 24 * 3600;
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

export const RotateBody = Type.Object(
  {
    /** How long the current secret keeps working, in seconds; 0 ends it now. 24 h when absent. */
    old_secret_expires_in: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ROTATION_OVERLAP_SECONDS })),
  },
  { additionalProperties: false },
);
export type RotateBody = Static<typeof RotateBody>;

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const ClientSecret = Type.Object({
  id: Type.String(),
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
  last_used_at: NullableTimestamp,
  /** Whether it authenticates the client now. */
  active: Type.Boolean(),
});
export type ClientSecret = Static<typeof ClientSecret>;

export const ClientSecretList = Type.Object({ items: Type.Array(ClientSecret) });
export type ClientSecretList = Static<typeof ClientSecretList>;

/** The one response that carries a new client secret's value. */
export const ClientSecretCreated = Type.Object({
  ...ClientSecret.properties,
  client_secret: Type.String(),
  /** When the secrets that were live before this one stop working. */
  previous_secrets_expire_at: Timestamp,
});
export type ClientSecretCreated = Static<typeof ClientSecretCreated>;

export const SecretParams = Type.Object({
  client_id: Type.String({ minLength: 1, maxLength: 128 }),
  secret_id: Type.String({ minLength: 1, maxLength: 64 }),
});
export type SecretParams = Static<typeof SecretParams>;

/** The one response that carries a new webhook secret. */
export const WebhookSecretRotated = Type.Object({
  webhook_secret: Type.String(),
  webhook_secret_version: Type.Integer(),
  /** Until then notifications carry a second `v1=` signature made with the previous secret; null when none. */
  previous_secret_expires_at: NullableTimestamp,
});
export type WebhookSecretRotated = Static<typeof WebhookSecretRotated>;

export const ClientAuthorization = Type.Object({
  id: Type.String(),
  app_id: Type.String(),
  app_name: Type.String(),
  granted_by: Type.String(),
  granted_by_email: Type.String(),
  scope: Type.String(),
  granted_at: Timestamp,
});
export type ClientAuthorization = Static<typeof ClientAuthorization>;

export const ClientAuthorizationList = Type.Object({
  items: Type.Array(ClientAuthorization),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type ClientAuthorizationList = Static<typeof ClientAuthorizationList>;

export const AuthorizationParams = Type.Object({
  client_id: Type.String({ minLength: 1, maxLength: 128 }),
  authorization_id: Type.String({ minLength: 1, maxLength: 64 }),
});
export type AuthorizationParams = Static<typeof AuthorizationParams>;

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    target_type: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    target_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditEntry = Type.Object({
  id: Type.String(),
  /** The admin key that made the change; null for the CLI acting directly on the database. */
  admin_key_id: Type.Union([Type.String(), Type.Null()]),
  admin_key_name: Type.String(),
  action: Type.String(),
  target_type: Type.String(),
  target_id: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
  request_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditList = Type.Object({
  items: Type.Array(AuditEntry),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type AuditList = Static<typeof AuditList>;

/** The `If-Match` precondition of PATCH and DELETE (RFC 9110 §13.1.1). */
export const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String({ maxLength: 200 })) });
export type IfMatchHeaders = Static<typeof IfMatchHeaders>;

/** What an admin key may do: `full` (every route) or `read` (GET only; any change answers 403 forbidden). */
export const AdminKeyAccess = Type.Union([Type.Literal('full'), Type.Literal('read')]);
export type AdminKeyAccess = Static<typeof AdminKeyAccess>;

export const AdminKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  access: AdminKeyAccess,
  created_at: Timestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()]),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
});
export type AdminKey = Static<typeof AdminKey>;

export const AdminKeyList = Type.Object({ items: Type.Array(AdminKey) });
export type AdminKeyList = Static<typeof AdminKeyList>;

export const AdminKeyCreateBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), access: Type.Optional(AdminKeyAccess) },
  { additionalProperties: false },
);
export type AdminKeyCreateBody = Static<typeof AdminKeyCreateBody>;

/** The key's value appears in this answer only: it is stored as its SHA-256. */
export const AdminKeyCreated = Type.Object({ ...AdminKey.properties, admin_key: Type.String() });
export type AdminKeyCreated = Static<typeof AdminKeyCreated>;

export const AdminKeyParams = Type.Object({ key_id: Type.String({ minLength: 1, maxLength: 64 }) });
export type AdminKeyParams = Static<typeof AdminKeyParams>;

/** A resource server (a platform API allowed to call /oauth/introspect); never its secret. */
export const ResourceServer = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Timestamp,
  /** While a rotation's overlap lasts, the previous secret works too, until then. */
  previous_secret_expires_at: Type.Union([Timestamp, Type.Null()]),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
});
export type ResourceServer = Static<typeof ResourceServer>;

export const ResourceServerList = Type.Object({ items: Type.Array(ResourceServer) });
export type ResourceServerList = Static<typeof ResourceServerList>;

export const ResourceServerCreateBody = Type.Object(
  {
    /** The HTTP Basic user name the API will introspect with; generated when absent. */
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type ResourceServerCreateBody = Static<typeof ResourceServerCreateBody>;

/** Answers create and rotate: `secret` appears here only (it is stored as its SHA-256). */
export const ResourceServerSecretShown = Type.Object({ ...ResourceServer.properties, secret: Type.String() });
export type ResourceServerSecretShown = Static<typeof ResourceServerSecretShown>;

export const ResourceServerParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type ResourceServerParams = Static<typeof ResourceServerParams>;
