// The compose gateway (nginx) routes exactly the public paths, each to its service, and hides /metrics and /health.
import { describe, expect, it } from 'vitest';
import { type Match, PORTS, PRIVATE_PATHS, PUBLIC_ROUTES, read, route } from './support.js';

const conf = read('gateway/nginx.conf');

function nginxRules(): [Match, string, string][] {
  const upstreams = new Map<string, string>();
  for (const [, name, host, port] of conf.matchAll(/upstream (\w+) \{ server ([\w-]+):(\d+);/g)) {
    expect(PORTS[host as string]).toBe(Number(port));
    upstreams.set(name as string, host as string);
  }
  const rules: [Match, string, string][] = [];
  for (const [, exact, path, upstream] of conf.matchAll(/location (= )?(\S+) \{ proxy_pass http:\/\/(\w+); \}/g)) {
    const service = upstreams.get(upstream as string);
    if (!service) throw new Error(`location ${path} proxies to unknown upstream ${upstream}`);
    rules.push([exact ? 'exact' : 'prefix', path as string, service]);
  }
  return rules;
}

describe('gateway/nginx.conf', () => {
  it('routes every public path to its service and nothing more', () => {
    expect(nginxRules().sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  it('answers 404 for everything else, /metrics and /health included', () => {
    expect(conf).toMatch(/location \/ \{ return 404; \}/);
    for (const path of PRIVATE_PATHS) expect(route(nginxRules(), path)).toBeUndefined();
  });

  it('sets the request id itself and forwards the client address for TRUST_PROXY', () => {
    expect(conf).toContain('proxy_set_header X-Request-Id $request_id;');
    expect(conf).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    // Query strings carry codes: the access log has the path only.
    expect(conf).toMatch(/log_format public '[^']*\$uri[^']*'/);
    expect(conf).not.toMatch(/log_format public '[^']*\$request_uri/);
  });
});
