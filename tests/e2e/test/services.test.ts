// The three services as separate processes against real Postgres and Redis.
import { createTestRedis } from '@partner-oauth/ephemeral-store/testing';
import { createTestDatabase, type TestDatabase } from '@partner-oauth/storage/testing';
import { afterAll, beforeAll, inject } from 'vitest';
import { type Deployment, describePartnerFlow } from './flow.js';
import { freePort, type Service, startProcess, stopProcess } from './support.js';

let t: TestDatabase;
const redis = createTestRedis();
const services: Service[] = [];
let deployment: Deployment;

beforeAll(async () => {
  t = await createTestDatabase(inject('templateDatabase'));
  const [ui, token, registry] = [await freePort(), await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${ui}`;
  const env = {
    DATABASE_URL: t.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ISSUER: issuer,
  };
  const start = (name: string, port: number) =>
    startProcess(name, ['node', `apps/${name}/dist/server.js`], { ...env, PORT: String(port) }, [`http://127.0.0.1:${port}`]);
  services.push(...(await Promise.all([start('authorize-ui', ui), start('token-service', token), start('client-registry', registry)])));
  deployment = {
    authorizeUrl: issuer,
    tokenUrl: `http://127.0.0.1:${token}`,
    issuer,
    appId: async (name) => t.ids.apps[name] as string,
  };
}, 60_000);

afterAll(async () => {
  const codes = await Promise.all(services.map(stopProcess));
  await redis.cleanup();
  await t.drop();
  // Graceful shutdown: every service exits 0 on SIGTERM.
  if (codes.some((c) => c !== 0)) throw new Error(`a service did not exit cleanly: ${codes.join(', ')}`);
});

describePartnerFlow(() => deployment);
