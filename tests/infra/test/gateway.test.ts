// The compose gateway (nginx): the public server routes exactly the public paths and hides /metrics, /health and the
// admin API; the admin server routes the admin API; `nginx -t` accepts the file.
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN_PATHS, ADMIN_ROUTES, INFRA, type Match, PORTS, PRIVATE_PATHS, PUBLIC_ROUTES, read, route, tool } from './support.js';

const conf = read('gateway/nginx.conf');

/** Each `server { … }` block of the http block, keyed by its listen port (blocks hold no nested braces but locations'). */
function servers(): Map<number, string> {
  const blocks = new Map<number, string>();
  for (const part of conf.split(/\n {2}server \{\n/).slice(1)) {
    const port = Number(/listen (\d+);/.exec(part)?.[1]);
    blocks.set(port, part);
  }
  return blocks;
}

/** The routing table of one server block: `set $name http://host:port;` then `location … { proxy_pass $name; }`. */
function nginxRules(server: string): [Match, string, string][] {
  const targets = new Map<string, string>();
  for (const [, variable, host, port] of server.matchAll(/set \$(\w+) http:\/\/([\w-]+):(\d+);/g)) {
    expect(PORTS[host as string]).toBe(Number(port));
    targets.set(variable as string, host as string);
  }
  const rules: [Match, string, string][] = [];
  for (const [, exact, path, target] of server.matchAll(/location (= )?(\S+) \{ proxy_pass \$(\w+); \}/g)) {
    const service = targets.get(target as string);
    if (!service) throw new Error(`location ${path} proxies to unknown ${target}`);
    rules.push([exact ? 'exact' : 'prefix', path as string, service]);
  }
  return rules;
}

describe('gateway/nginx.conf', () => {
  it('is accepted by nginx -t', () => {
    const nginx = tool('nginx', 'nginx');
    const dir = mkdtempSync(join(tmpdir(), 'gateway-'));
    try {
      cpSync(`${INFRA}gateway/nginx.conf`, join(dir, 'nginx.conf'));
      // Its logs are /dev/stdout and /dev/stderr, which nginx opens by name: files, as in a container, not sockets.
      const out = openSync(join(dir, 'output.log'), 'w');
      const result = spawnSync(nginx, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      expect(readFileSync(join(dir, 'output.log'), 'utf8')).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes every public path to its service on :8080, and nothing more: never client-registry (issue 17 item 3)', () => {
    const rules = nginxRules(servers().get(8080) as string);
    expect(rules.sort()).toEqual([...PUBLIC_ROUTES].sort());
    expect(rules.map(([, , service]) => service)).not.toContain('client-registry');
    for (const path of ADMIN_PATHS) expect(route(rules, path), path).toBeUndefined();
  });

  it('routes the admin API on its own server, :8081, and nothing else there', () => {
    expect([...servers().keys()].sort()).toEqual([8080, 8081]);
    expect(nginxRules(servers().get(8081) as string).sort()).toEqual([...ADMIN_ROUTES].sort());
  });

  it('answers 404 for everything else, /metrics and /health included', () => {
    for (const server of servers().values()) {
      expect(server).toMatch(/location \/ \{ return 404; \}/);
      for (const path of PRIVATE_PATHS) expect(route(nginxRules(server), path)).toBeUndefined();
    }
  });

  it('sets X-Forwarded-For from the address it saw, never appending what the client wrote (issue 17 item 4)', () => {
    expect(conf).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(conf).not.toContain('$proxy_add_x_forwarded_for');
    expect(conf).not.toContain('$http_x_forwarded_for');
  });

  it('looks service names up again while running: a resolver, and every upstream named through a variable (issue 17 item 8)', () => {
    expect(conf).toMatch(/^\s*resolver 127\.0\.0\.11 valid=\d+s/m);
    expect(conf).not.toMatch(/^\s*upstream /m);
    for (const [, target] of conf.matchAll(/proxy_pass ([^;]+);/g)) expect(target).toMatch(/^\$\w+$/);
  });

  it('sets the request id itself and keeps query strings out of the access log', () => {
    expect(conf).toContain('proxy_set_header X-Request-Id $request_id;');
    expect(conf).toMatch(/log_format public '[^']*\$uri[^']*'/);
    expect(conf).not.toMatch(/log_format public '[^']*\$request_uri/);
  });
});
