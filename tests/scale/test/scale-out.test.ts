// Stateless services: two instances of each app, one Postgres and one Redis, a round-robin proxy in front of each
// pair; the partner flow succeeds whichever instance serves each step.
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Deployment, describePartnerFlow } from '../../e2e/test/flow.js';
import { freePort, type Service, startProcess, stopProcess } from '../../e2e/test/support.js';
import { type RoundRobinProxy, startRoundRobinProxy } from './proxy.js';

let t: TestDatabase;
const redis = createTestRedis();
const services: Service[] = [];
const proxies: Record<string, RoundRobinProxy> = {};
let deployment: Deployment;

const APPS = ['authorize-ui', 'token-service', 'client-registry'] as const;

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  // Proxies first: the issuer is the address the browser sees, whichever instance answers.
  const ports = new Map<string, number[]>();
  for (const app of APPS) {
    const pair = [await freePort(), await freePort()];
    ports.set(app, pair);
    proxies[app] = await startRoundRobinProxy(pair.map((p) => `http://127.0.0.1:${p}`));
  }
  const issuer = (proxies['authorize-ui'] as RoundRobinProxy).url;
  const env = {
    DATABASE_URL: t.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ISSUER: issuer,
    TOKEN_SERVICE_PUBLIC_URL: (proxies['token-service'] as RoundRobinProxy).url,
    // Every instance relays webhooks: two workers on one outbox is the case to support.
    WEBHOOK_WORKER: 'true',
  };
  const starts = APPS.flatMap((app) =>
    (ports.get(app) ?? []).map((port, i) =>
      startProcess(`${app}#${i}`, ['node', `apps/${app}/dist/server.js`], { ...env, PORT: String(port) }, [`http://127.0.0.1:${port}`]),
    ),
  );
  services.push(...(await Promise.all(starts)));
  deployment = {
    authorizeUrl: issuer,
    tokenUrl: (proxies['token-service'] as RoundRobinProxy).url,
    issuer,
    appId: async (name) => t.ids.apps[name] as string,
  };
}, 90_000);

afterAll(async () => {
  const codes = await Promise.all(services.map(stopProcess));
  await Promise.all(Object.values(proxies).map((p) => p.close()));
  await redis.cleanup();
  await t.drop();
  if (codes.some((c) => c !== 0)) throw new Error(`an instance did not exit cleanly: ${codes.join(', ')}`);
});

describePartnerFlow(() => deployment);

describe('spread across instances', () => {
  it('every instance of each app served part of the flows', () => {
    for (const app of ['authorize-ui', 'token-service'] as const) {
      const served = (proxies[app] as RoundRobinProxy).served;
      expect(served[0], `${app}#0`).toBeGreaterThan(2);
      expect(served[1], `${app}#1`).toBeGreaterThan(2);
    }
  });

  it('each instance counts its own share of codes issued and redeemed in /metrics', async () => {
    const total = async (app: string, series: string) => {
      let sum = 0;
      for (const s of services.filter((x) => x.name.startsWith(`${app}#`))) {
        const text = await (await fetch(`${s.url}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`${series}{service="${app}"} `));
        if (line === undefined) throw new Error(`${s.name} exports no ${series}`);
        sum += Number(line.split(' ')[1]);
      }
      return sum;
    };
    // The flows above: ada, grace and grace for shoplifter-rotating allowed (three codes), each exchanged; the rotating
    // partner's refresh and the one winner of its two simultaneous refreshes issued two more tokens.
    expect(await total('authorize-ui', 'oauth_codes_issued_total')).toBe(3);
    expect(await total('token-service', 'oauth_codes_redeemed_total')).toBe(3);
    expect(await total('token-service', 'oauth_tokens_issued_total')).toBe(5);
  });

  it('readiness is ok on every instance', async () => {
    for (const s of services) {
      const res = await fetch(`${s.url}/health/ready`);
      expect(res.status, s.name).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', checks: expect.objectContaining({ postgres: 'ok', migrations: 'ok' }) });
    }
  });
});
