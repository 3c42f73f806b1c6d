// Reads the files under infra/ and the routing table the gateway and the Ingress must both implement.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const INFRA = fileURLToPath(new URL('../../../infra/', import.meta.url));

export const read = (path: string): string => readFileSync(`${INFRA}${path}`, 'utf8');

/** Every YAML document of a file, as plain data; a YAML syntax error fails the caller. */
export function yamlDocuments(path: string): any[] {
  return parseAllDocuments(read(path), { merge: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS();
  });
}

export type Match = 'exact' | 'prefix';

/** The public paths and the service each belongs to (issue 8); nothing else is public. */
export const PUBLIC_ROUTES: [Match, string, string][] = [
  ['exact', '/oauth/authorize', 'authorize-ui'],
  ['exact', '/oauth/consent', 'authorize-ui'],
  ['exact', '/oauth/pick-app', 'authorize-ui'],
  ['exact', '/oauth/decision', 'authorize-ui'],
  ['exact', '/login', 'authorize-ui'],
  ['exact', '/logout', 'authorize-ui'],
  ['exact', '/signed-out', 'authorize-ui'],
  ['exact', '/switch-account', 'authorize-ui'],
  ['exact', '/', 'authorize-ui'],
  ['prefix', '/integrations', 'authorize-ui'],
  ['prefix', '/static/', 'authorize-ui'],
  ['exact', '/oauth/token', 'token-service'],
  ['exact', '/oauth/revoke', 'token-service'],
  ['exact', '/oauth/introspect', 'token-service'],
  ['exact', '/oauth/authorization', 'token-service'],
  ['exact', '/v2/tokenInfo', 'token-service'],
  ['prefix', '/.well-known/', 'token-service'],
  ['prefix', '/v1/', 'client-registry'],
  ['prefix', '/docs', 'client-registry'],
  ['exact', '/openapi.json', 'client-registry'],
];

export const PORTS: Record<string, number> = { 'authorize-ui': 3000, 'token-service': 3001, 'client-registry': 3002 };

/** Paths that must never be routed publicly. */
export const PRIVATE_PATHS = ['/metrics', '/health/live', '/health/ready'];

/** Which service a router sends `path` to, given its rules; longest prefix wins as in nginx and Ingress. */
export function route(rules: [Match, string, string][], path: string): string | undefined {
  const exact = rules.find(([m, p]) => m === 'exact' && p === path);
  if (exact) return exact[2];
  const prefixes = rules.filter(([m, p]) => m === 'prefix' && path.startsWith(p)).sort((a, b) => b[1].length - a[1].length);
  return prefixes[0]?.[2];
}
