// What `pnpm start` prints first in development: where to click, who to sign in as, and which secrets are not secret.
import { DEMO } from '@partner-oauth/storage';

export interface BannerInput {
  /** Host the listeners are bound to; loopback is shown as localhost. */
  host: string;
  ports: { authorizeUi: number; tokenService: number; clientRegistry: number; shoplifter?: number | undefined };
  storage: string;
  codes: string;
  startedMs: number;
  adminKey: string;
  /** Each development secret still in use, with what to do about it. */
  devSecrets: string[];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The banner as lines of plain text (no colour codes, so it reads the same in a terminal, a file and a test). */
export function devBanner(input: BannerInput): string {
  const host = LOOPBACK.has(input.host) ? 'localhost' : input.host.includes(':') ? `[${input.host}]` : input.host;
  const url = (port: number, path = '') => `http://${host}:${port}${path}`;
  const rows: [string, string, string][] = [];
  if (input.ports.shoplifter) rows.push(['Try it', url(input.ports.shoplifter), 'Shoplifter, the example partner: click "Add to Smooch"']);
  rows.push(
    ['Sign-in', url(input.ports.authorizeUi, '/integrations'), 'authorize-ui: sign-in, consent, Connected integrations'],
    ['Tokens', url(input.ports.tokenService), 'token-service: /oauth/token, /v2/tokenInfo'],
    ['Admin API', url(input.ports.clientRegistry, '/docs'), 'client-registry (OpenAPI); docs/admin-api.md'],
  );
  const urlWidth = Math.max(...rows.map(([, u]) => u.length));
  const accountWidth = Math.max(...DEMO.accounts.map((a) => `${a.email} / ${a.password}`.length));
  const lines = [
    '',
    `  Partner OAuth is running (development) in ${input.startedMs} ms: ${input.storage}, codes and sessions ${input.codes}`,
    '',
    ...rows.map(([label, u, what]) => `  ${label.padEnd(10)} ${u.padEnd(urlWidth)}  ${what}`),
    '',
    '  Demo accounts',
    ...DEMO.accounts.map((a) => {
      const apps =
        a.apps.length === 0 ? 'no app' : `${['one app', 'two apps'][a.apps.length - 1] ?? `${a.apps.length} apps`}: ${a.apps.join(', ')}`;
      return `    ${`${a.email} / ${a.password}`.padEnd(accountWidth)}  ${apps}`;
    }),
    `  Admin key  ${input.adminKey}  (Authorization: Bearer …)`,
  ];
  if (input.devSecrets.length > 0) {
    lines.push(
      '',
      '  ! Development secrets in use: fine on this machine, never on a network',
      ...input.devSecrets.map((s) => `    - ${s}`),
    );
  }
  lines.push('', '  Logs follow as readable lines (LOG_FORMAT=json for JSON lines); Ctrl-C stops.', '');
  return `${lines.join('\n')}\n`;
}
