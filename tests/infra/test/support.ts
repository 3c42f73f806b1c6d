// Reads the files under infra/ and the routing table the gateway and the Ingress must both implement.
import { spawnSync } from 'node:child_process';
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

/** The public paths and the service each belongs to (issue 8); nothing else is public, the admin API included. */
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
];

/** The admin API's paths: on the internal entry only (issue 17 item 3), never on a public one. */
export const ADMIN_ROUTES: [Match, string, string][] = [
  ['prefix', '/v1/', 'client-registry'],
  ['prefix', '/docs', 'client-registry'],
  ['exact', '/openapi.json', 'client-registry'],
];

/** Paths of the admin API a public router must not reach client-registry with. */
export const ADMIN_PATHS = ['/v1/clients', '/v1/admin-keys', '/docs', '/docs/static/index.html', '/openapi.json'];

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

/** The command-line tools tests/infra runs, and the Debian package of each. */
export const TOOLS: Record<string, string> = {
  kubectl: 'kubernetes-client',
  nginx: 'nginx',
  promtool: 'prometheus',
  'docker-compose': 'docker-compose',
};

const which = (command: string) =>
  spawnSync('sh', ['-c', `command -v ${command} || ls /usr/sbin/${command} 2>/dev/null`], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')[0] ?? '';

/** Installs Debian packages in one apt-get run, waiting for a dpkg lock another process holds; returns apt's output. */
export function aptInstall(packages: string[]): string {
  const command = `apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq ${packages.join(' ')}`;
  const result = spawnSync('sh', ['-c', command], { encoding: 'utf8', timeout: 900_000 });
  return `${result.stdout}\n${result.stderr}`;
}

/**
 * The path of a command-line tool, installed from Debian when missing (CI may run on a fresh machine; the global setup
 * installs them all at once first). Never skips: a tool that cannot be had fails the test that needs it.
 */
export function tool(command: string, debianPackage = TOOLS[command] as string): string {
  let path = which(command);
  if (path === '') {
    const output = aptInstall([debianPackage]);
    path = which(command);
    if (path === '') throw new Error(`${command} is missing and installing Debian's ${debianPackage} failed:\n${output}`);
  }
  return path;
}

/** Runs a tool and returns its stdout; a non-zero exit fails with its output. */
export function run(command: string, args: string[], options: { cwd?: string } = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: options.cwd, timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** What `kubectl kustomize` renders from a kustomization directory (infra/k8s by default), as plain documents. */
export function kustomize(dir = `${INFRA}k8s`): any[] {
  const kubectl = tool('kubectl', 'kubernetes-client');
  return parseAllDocuments(run(kubectl, ['kustomize', dir])).map((d) => d.toJS());
}
