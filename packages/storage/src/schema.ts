// The Kysely view of the database: one interface per table.
import type { ColumnType, Insertable, Selectable } from 'kysely';

/** A timestamptz the database fills in by default. */
type DefaultNow = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface AccountTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: DefaultNow;
}

export interface AppTable {
  id: string;
  name: string;
  created_at: DefaultNow;
}

export interface AppMemberTable {
  app_id: string;
  account_id: string;
  role: 'owner' | 'member';
  created_at: DefaultNow;
}

export interface ClientTable {
  client_id: string;
  client_name: string;
  description: string;
  client_uri: string | null;
  logo_uri: string | null;
  redirect_uris: string[];
  status: 'active' | 'disabled';
  allowed_scopes: ColumnType<string[], string[] | undefined, string[]>;
  default_scope: ColumnType<string, string | undefined, string>;
  require_pkce: ColumnType<boolean, boolean | undefined, boolean>;
  remove_url: string | null;
  webhook_secret_version: ColumnType<number, number | undefined, number>;
  policy_uri: ColumnType<string | null, string | null | undefined, string | null>;
  tos_uri: ColumnType<string | null, string | null | undefined, string | null>;
  revision: ColumnType<number, number | undefined, number>;
  webhook_secret_previous_expires_at: NullableTimestamp;
  /** Codes issued under another epoch no longer redeem (0004). */
  code_epoch: ColumnType<string, string | undefined, string>;
  /** Expiring access tokens and rotating refresh tokens (0006); off: the spec's tokens, live until revoked. */
  expiring_tokens: ColumnType<boolean, boolean | undefined, boolean>;
  /** Seconds (0006). */
  access_token_lifetime: ColumnType<number, number | undefined, number>;
  refresh_token_idle_lifetime: ColumnType<number, number | undefined, number>;
  refresh_token_absolute_lifetime: ColumnType<number, number | undefined, number>;
  created_at: DefaultNow;
  updated_at: DefaultNow;
}

export interface ClientSecretTable {
  id: string;
  client_id: string;
  secret_hash: string;
  created_at: DefaultNow;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface AuthorizationTable {
  id: string;
  client_id: string;
  app_id: string;
  granted_by: string;
  scope: string;
  granted_at: DefaultNow;
  revoked_at: NullableTimestamp;
  /** Last use by the partner (token exchange, tokenInfo, introspection), at most an hour stale (0007). */
  last_used_at: NullableTimestamp;
}

/**
 * How many authorizations of a partner on an app have ended, ever (0008): counted by a trigger as each ends, and never
 * lowered, so the retention sweep deleting old ended authorizations does not move the count a code is bound to.
 */
export interface GrantEndsTable {
  client_id: string;
  app_id: string;
  ended: number;
}

export interface AccessTokenTable {
  id: string;
  token_hash: string;
  authorization_id: string;
  client_id: string;
  app_id: string;
  scope: string;
  code_hash: string | null;
  created_at: DefaultNow;
  revoked_at: NullableTimestamp;
  /** Null: live until revoked (0006). */
  expires_at: NullableTimestamp;
}

export interface RefreshTokenTable {
  id: string;
  token_hash: string;
  authorization_id: string;
  client_id: string;
  app_id: string;
  scope: string;
  /** The code the family started from (carried through rotations), or null. */
  code_hash: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: DefaultNow;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  family_expires_at: ColumnType<Date, Date | string, Date | string>;
  used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface ResourceServerTable {
  id: string;
  name: string;
  secret_hash: string;
  /** The secret before the last rotation, live until previous_expires_at (0004). */
  previous_secret_hash: ColumnType<string | null, string | null | undefined, string | null>;
  previous_expires_at: NullableTimestamp;
  created_at: DefaultNow;
  revoked_at: NullableTimestamp;
}

export interface WebhookDeliveryTable {
  id: string;
  client_id: string;
  app_id: string;
  authorization_id: string;
  reason: string;
  url: string;
  secret_version: number;
  payload: string;
  request_id: string | null;
  status: ColumnType<'pending' | 'delivered' | 'failed', 'pending' | undefined, 'pending' | 'delivered' | 'failed'>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: DefaultNow;
  last_status: number | null;
  last_error: string | null;
  created_at: DefaultNow;
  completed_at: NullableTimestamp;
}

export interface AdminKeyTable {
  id: string;
  name: string;
  key_hash: string;
  /** `read`: GET only (0004). */
  access: ColumnType<'full' | 'read', 'full' | 'read' | undefined, 'full' | 'read'>;
  created_at: DefaultNow;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: ColumnType<string, never, never>;
  admin_key_id: string | null;
  admin_key_name: string;
  action: string;
  target_type: string;
  target_id: string;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
  request_id: string | null;
  created_at: DefaultNow;
}

/** A code presented after its use, kept while the code could still be redeemed (migration 0011). */
export interface ReplayedCodeTable {
  code_hash: string;
  expires_at: Date;
}

export interface Database {
  accounts: AccountTable;
  apps: AppTable;
  app_members: AppMemberTable;
  clients: ClientTable;
  client_secrets: ClientSecretTable;
  authorizations: AuthorizationTable;
  grant_ends: GrantEndsTable;
  access_tokens: AccessTokenTable;
  refresh_tokens: RefreshTokenTable;
  resource_servers: ResourceServerTable;
  webhook_deliveries: WebhookDeliveryTable;
  admin_keys: AdminKeyTable;
  audit_log: AuditLogTable;
  replayed_codes: ReplayedCodeTable;
}

export type AccountRow = Selectable<AccountTable>;
export type AppRow = Selectable<AppTable>;
export type ClientRow = Selectable<ClientTable>;
export type NewClient = Insertable<ClientTable>;
export type AuthorizationRow = Selectable<AuthorizationTable>;
export type AccessTokenRow = Selectable<AccessTokenTable>;
export type RefreshTokenRow = Selectable<RefreshTokenTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type AdminKeyRow = Selectable<AdminKeyTable>;
export type ResourceServerRow = Selectable<ResourceServerTable>;
export type AuditLogRow = Selectable<AuditLogTable>;
