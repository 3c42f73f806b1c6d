// The admin API's view of a client (the registry's response body): a stored row as the contract's Client.
import type { Client } from '@partner-oauth/contracts';
import type { ClientRow } from '@partner-oauth/storage';

export function toClientView(row: ClientRow): Client {
  return {
    client_id: row.client_id,
    client_name: row.client_name,
    description: row.description,
    client_uri: row.client_uri,
    logo_uri: row.logo_uri,
    redirect_uris: row.redirect_uris,
    status: row.status,
    scope: row.allowed_scopes.join(' '),
    default_scope: row.default_scope,
    require_pkce: row.require_pkce,
    remove_url: row.remove_url,
    policy_uri: row.policy_uri,
    tos_uri: row.tos_uri,
    expiring_tokens: row.expiring_tokens,
    access_token_lifetime: row.access_token_lifetime,
    refresh_token_idle_lifetime: row.refresh_token_idle_lifetime,
    refresh_token_absolute_lifetime: row.refresh_token_absolute_lifetime,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
