// Wire shapes of the client-registry admin API (field names after RFC 7591 §2 where one exists).
import { type Static, Type } from 'typebox';

export const ClientStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);
export type ClientStatus = Static<typeof ClientStatus>;

export const MAX_REDIRECT_URIS = 10;

const RedirectUris = Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), {
  minItems: 1,
  maxItems: MAX_REDIRECT_URIS,
});

/**
 * Expiring tokens (issue 14), in seconds: the admin API and the CLI hold a client's lifetimes to these bounds.
 * Access: 12 h by default, 5 min to 24 h. Refresh, idle (unused this long, it expires): 30 days, 1 h to 180 days.
 * Refresh, absolute (from the code exchange, whatever the rotations): 180 days, 1 day to 365 days; never under idle.
 */
export const TOKEN_LIFETIMES = {
  access_token_lifetime: { minimum: 300, maximum: 86_400, default: 43_200 },
  refresh_token_idle_lifetime: { minimum: 3_600, maximum: 15_552_000, default: 2_592_000 },
  refresh_token_absolute_lifetime: { minimum: 86_400, maximum: 31_536_000, default: 15_552_000 },
} as const;
export type TokenLifetimeField = keyof typeof TOKEN_LIFETIMES;

const lifetime = (field: TokenLifetimeField) =>
  Type.Integer({ minimum: TOKEN_LIFETIMES[field].minimum, maximum: TOKEN_LIFETIMES[field].maximum });

/** The setting's fields, optional in a request (a create without them gets the defaults, a patch keeps what is stored). */
const ExpiringTokensFields = {
  /** Off (default): the spec's tokens, no expires_in, no refresh_token. On: expiring access tokens and rotating refresh tokens. */
  expiring_tokens: Type.Optional(Type.Boolean()),
  access_token_lifetime: Type.Optional(lifetime('access_token_lifetime')),
  refresh_token_idle_lifetime: Type.Optional(lifetime('refresh_token_idle_lifetime')),
  refresh_token_absolute_lifetime: Type.Optional(lifetime('refresh_token_absolute_lifetime')),
};

/** RFC 7591 §2 `scope`: space-separated scope tokens; the registry checks each against the catalogue. */
const ScopeList = Type.String({ maxLength: 1000 });
/** Where removal notifications are POSTed; the registry checks it is an https URL. */
const RemoveUrl = Type.String({ maxLength: 2000 });

export const ClientCreateBody = Type.Object(
  {
    client_name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    client_uri: Type.Optional(Type.String({ maxLength: 2000 })),
    logo_uri: Type.Optional(Type.String({ maxLength: 2000 })),
    redirect_uris: RedirectUris,
    /** The scopes the client may ask for; `app:read` when absent. */
    scope: Type.Optional(ScopeList),
    /** A subset of `scope` granted when a request names none; all of `scope` when absent. */
    default_scope: Type.Optional(ScopeList),
    require_pkce: Type.Optional(Type.Boolean()),
    remove_url: Type.Optional(RemoveUrl),
    /** RFC 7591 §2: the partner's privacy policy and terms of service, shown on the consent page. */
    policy_uri: Type.Optional(Type.String({ maxLength: 2000 })),
    tos_uri: Type.Optional(Type.String({ maxLength: 2000 })),
    ...ExpiringTokensFields,
  },
  { additionalProperties: false },
);
export type ClientCreateBody = Static<typeof ClientCreateBody>;

export const ClientUpdateBody = Type.Object(
  {
    client_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    client_uri: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    logo_uri: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    redirect_uris: Type.Optional(RedirectUris),
    status: Type.Optional(ClientStatus),
    scope: Type.Optional(ScopeList),
    default_scope: Type.Optional(ScopeList),
    require_pkce: Type.Optional(Type.Boolean()),
    remove_url: Type.Optional(Type.Union([RemoveUrl, Type.Null()])),
    policy_uri: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    tos_uri: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    ...ExpiringTokensFields,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ClientUpdateBody = Static<typeof ClientUpdateBody>;

export const ClientParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 128 }) });
export type ClientParams = Static<typeof ClientParams>;

export const ClientListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    status: Type.Optional(ClientStatus),
    /** Case-insensitive substring of client_name. */
    client_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type ClientListQuery = Static<typeof ClientListQuery>;

export const Client = Type.Object({
  client_id: Type.String(),
  client_name: Type.String(),
  description: Type.String(),
  client_uri: Type.Union([Type.String(), Type.Null()]),
  logo_uri: Type.Union([Type.String(), Type.Null()]),
  redirect_uris: Type.Array(Type.String()),
  status: ClientStatus,
  /** RFC 7591 §2: the scopes this client may ask for, space-separated. */
  scope: Type.String(),
  /** What a request without a scope parameter gets. */
  default_scope: Type.String(),
  /** Whether every authorization request must carry a PKCE S256 challenge (RFC 7636). */
  require_pkce: Type.Boolean(),
  /** Where removal notifications are POSTed, or null. */
  remove_url: Type.Union([Type.String(), Type.Null()]),
  policy_uri: Type.Union([Type.String(), Type.Null()]),
  tos_uri: Type.Union([Type.String(), Type.Null()]),
  /** Whether tokens issued from now on expire and come with a rotating refresh token; tokens issued before keep their terms. */
  expiring_tokens: Type.Boolean(),
  /** Seconds; applied only while expiring_tokens is on. */
  access_token_lifetime: Type.Integer(),
  refresh_token_idle_lifetime: Type.Integer(),
  refresh_token_absolute_lifetime: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Client = Static<typeof Client>;

/** Only the creation response carries the secrets; they are never shown again. */
export const ClientCreated = Type.Object({
  ...Client.properties,
  client_secret: Type.String(),
  /** Verifies the signatures of removal notifications (version 1 of the client's webhook secret). */
  webhook_secret: Type.String(),
});
export type ClientCreated = Static<typeof ClientCreated>;

export const ClientList = Type.Object({
  items: Type.Array(Client),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type ClientList = Static<typeof ClientList>;

/** The one error shape of the admin API. */
export const AdminError = Type.Object({
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});
export type AdminError = Static<typeof AdminError>;

export const AdminErrorCodes = {
  invalid_request: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  unauthorized: 401,
  /** A read-only admin key asked for a change. */
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  precondition_required: 428,
} as const;
export type AdminErrorCode = keyof typeof AdminErrorCodes;
