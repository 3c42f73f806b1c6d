// What the consent steps after GET /oauth/authorize share: the pending-request guard, the app picker and
// the consent page (RFC 6749 §4.1.1: the resource owner grants or denies; RFC 6819 §4.4.1.4 CSRF on the decision).
import { isScopeName, type ScopeName } from '@partner-oauth/contracts';
import {
  type AppView,
  type ClientRow,
  type CodeBinding,
  type Db,
  findClient,
  findClientWithManagedAppBinding,
  findLiveAuthorization,
  isStorableText,
} from '@partner-oauth/storage';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRequestStore, PendingRequest } from './auth-requests.js';
import { formatDate } from './i18n/index.js';
import { errorPages, PageError, website } from './pages.js';
import { cspAllowingFormTarget, formTargetSource } from './plugins/browser.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The stored request a consent step works on, set by the pending-request guard. */
    pendingRequest: { id: string; pending: PendingRequest; client: ClientRow; chosen?: ChosenApp } | null;
  }
}

/** The form's app, read with the client by the guard of a step that posts one: the app if the account may manage it, and the code's binding. */
export interface ChosenApp {
  app: AppView | undefined;
  binding: CodeBinding;
}

/** The client, if it exists and may start or finish a flow (a disabled client may not). */
export async function activeClient(db: Db, clientId: string): Promise<ClientRow | undefined> {
  const client = await findClient(db, clientId);
  return client?.status === 'active' ? client : undefined;
}

/**
 * The pre-handler of every consent step: the signed-in account's own stored request (`request_id` from
 * the query, or the form) and its still-active client, else an error page. `take` removes the request
 * as it is read, so a form posted twice finds nothing the second time. On a form, put it after the
 * CSRF check: a forged post must not use up the request.
 */
export function requirePendingRequest(
  app: FastifyInstance,
  deps: { db: Db; requests: AuthRequestStore },
  opts: { take: boolean; withChosenApp?: boolean },
) {
  if (!app.hasRequestDecorator('pendingRequest')) app.decorateRequest('pendingRequest', null);
  return async function pendingRequestGuard(request: FastifyRequest): Promise<void> {
    const accountId = request.session.accountId;
    const fields = (request.method === 'GET' ? request.query : request.body) as { request_id: string; app_id?: string };
    if (!accountId) throw new PageError(errorPages.expiredRequest);
    const pending = opts.take ? await deps.requests.take(fields.request_id) : await deps.requests.get(fields.request_id);
    if (!pending || pending.accountId !== accountId) throw new PageError(errorPages.expiredRequest);
    // With `withChosenApp`, the form's app_id is read in the client's statement (one round trip for the decision). An
    // app_id the database cannot be asked about (NUL) is left to the route, where it is refused as before.
    const appId = opts.withChosenApp ? fields.app_id : undefined;
    if (appId !== undefined && isStorableText(appId)) {
      const found = await findClientWithManagedAppBinding(deps.db, pending.clientId, appId, pending.accountId);
      if (found?.client.status !== 'active') throw new PageError(errorPages.unknownClient, { clientId: pending.clientId });
      request.pendingRequest = { id: fields.request_id, pending, client: found.client, chosen: { app: found.app, binding: found.binding } };
      return;
    }
    const client = await activeClient(deps.db, pending.clientId);
    if (!client) throw new PageError(errorPages.unknownClient, { clientId: pending.clientId });
    request.pendingRequest = { id: fields.request_id, pending, client };
  };
}

/** The pending request the guard above set; a route without the guard has none. */
export function pendingRequestOf(request: FastifyRequest): NonNullable<FastifyRequest['pendingRequest']> {
  if (!request.pendingRequest) throw new Error('route without the pending-request guard');
  return request.pendingRequest;
}

function hostOf(uri: string): { host: string; hostname: string } | undefined {
  try {
    const url = new URL(uri);
    return url.host ? { host: url.host, hostname: url.hostname.toLowerCase() } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the redirect goes to the partner's website host or a subdomain of it (or the site is a subdomain of it). */
export function sameSite(redirectHostname: string, websiteHostname: string): boolean {
  return (
    redirectHostname === websiteHostname ||
    redirectHostname.endsWith(`.${websiteHostname}`) ||
    websiteHostname.endsWith(`.${redirectHostname}`)
  );
}

/** Where the consent page lists each scope of the catalogue; typed against it, so a new scope must be placed. */
export const SCOPE_KINDS: Record<ScopeName, 'see' | 'do'> = {
  'app:read': 'see',
  'conversations:read': 'see',
  'users:read': 'see',
  'conversations:write': 'do',
  'webhooks:manage': 'do',
};

/** The requested scope as the consent page groups it: what the partner can see, and what it can do. */
export function scopeGroups(scope: string): { see: ScopeName[]; do: ScopeName[] } {
  const names = scope.split(' ').filter(isScopeName);
  return { see: names.filter((n) => SCOPE_KINDS[n] === 'see'), do: names.filter((n) => SCOPE_KINDS[n] === 'do') };
}

/** The app picker: which of the account's apps the partner is added to. */
export function renderPickApp(request: FastifyRequest, reply: FastifyReply, requestId: string, client: ClientRow, apps: AppView[]) {
  return reply.view('pick-app', {
    client: { name: client.client_name },
    apps,
    requestId,
    email: request.session.email,
    csrfToken: reply.generateCsrf(),
  });
}

/** The consent page for one app; its form may end at the partner's redirect URI, so the CSP allows that origin. */
export async function renderConsent(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  step: {
    requestId: string;
    pending: PendingRequest;
    client: ClientRow;
    app: AppView;
    canChooseAnother: boolean;
    /** When the caller already read it (findLiveAuthorization's `since`, null: no live access); else it is read here. */
    liveSince?: Date | null;
  },
) {
  const { pending, client, app } = step;
  const site = website(client.client_uri);
  const redirect = hostOf(pending.redirectUri);
  const siteHost = site ? hostOf(site.href) : undefined;
  reply.header('content-security-policy', cspAllowingFormTarget(formTargetSource(pending.redirectUri)));
  const liveSince =
    step.liveSince !== undefined ? step.liveSince : ((await findLiveAuthorization(db, client.client_id, app.id))?.since ?? null);
  return reply.view('consent', {
    client: {
      name: client.client_name,
      description: client.description,
      website: site?.href,
      websiteLabel: site?.label,
      logo: client.logo_uri,
      policy: website(client.policy_uri)?.href,
      terms: website(client.tos_uri)?.href,
    },
    app,
    already: liveSince ? { since: formatDate(reply.locals.locale, liveSince) } : null,
    requestId: step.requestId,
    redirectHost: redirect?.host ?? pending.redirectUri,
    // A visible warning when the browser would end up somewhere other than the partner's own site.
    redirectElsewhere: Boolean(redirect && siteHost && !sameSite(redirect.hostname, siteHost.hostname)),
    scopes: scopeGroups(pending.scope),
    email: request.session.email,
    canChooseAnother: step.canChooseAnother,
    csrfToken: reply.generateCsrf(),
  });
}
