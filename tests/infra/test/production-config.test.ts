// Each Deployment's environment, as rendered, read by its service's own config loader: the example Secrets' placeholders
// are refused by name (issue 17 item 1), generated secrets and the manifests' settings are accepted.
import { randomBytes } from 'node:crypto';
import { loadAuthorizeUiConfig } from '@partner-oauth/authorize-ui';
import { loadClientRegistryConfig } from '@partner-oauth/client-registry';
import { ConfigError } from '@partner-oauth/service-kit';
import { loadTokenServiceConfig } from '@partner-oauth/token-service';
import { describe, expect, it } from 'vitest';
import { kustomize, yamlDocuments } from './support.js';

const LOADERS: Record<string, (env: Record<string, string | undefined>) => unknown> = {
  'authorize-ui': loadAuthorizeUiConfig,
  'token-service': loadTokenServiceConfig,
  'client-registry': loadClientRegistryConfig,
};

const rendered = kustomize();
const configMap = rendered.find((d) => d.kind === 'ConfigMap');
const exampleSecrets = new Map<string, Record<string, string>>(
  yamlDocuments('k8s/secrets.example.yaml').map((s) => [s.metadata.name, s.stringData]),
);

/** The environment a Deployment's container starts with, its secretKeyRefs read from `secrets`. */
function environment(deployment: any, secrets: Map<string, Record<string, string>>): Record<string, string> {
  const [container] = deployment.spec.template.spec.containers;
  const env: Record<string, string> = { ...configMap.data };
  for (const e of container.env) {
    const ref = e.valueFrom?.secretKeyRef;
    env[e.name] = ref ? (secrets.get(ref.name)?.[ref.key] as string) : e.value;
  }
  return env;
}

/** The example's shape with real values: generated keys, URLs with generated passwords. */
function generatedSecrets(): Map<string, Record<string, string>> {
  const key = () => randomBytes(48).toString('base64');
  return new Map<string, Record<string, string>>([
    [
      'partner-oauth-database',
      { DATABASE_URL: `postgres://partner_oauth:${randomBytes(24).toString('hex')}@postgres-rw.databases.svc:5432/partner_oauth` },
    ],
    ['partner-oauth-redis', { REDIS_URL: `redis://:${randomBytes(24).toString('hex')}@redis-master.databases.svc:6379` }],
    ['partner-oauth-keys', { SESSION_SECRET: key(), WEBHOOK_SIGNING_KEY: key() }],
  ]);
}

describe('production configuration of each Deployment', () => {
  it.each(Object.keys(LOADERS))('%s refuses the example Secrets, naming each placeholder setting', (app) => {
    const deployment = rendered.find((d) => d.kind === 'Deployment' && d.metadata.name === app);
    const env = environment(deployment, exampleSecrets);
    const load = () => LOADERS[app]?.(env);
    expect(load).toThrow(ConfigError);
    const placeholders = Object.keys(env).filter((k) => /CHANGE_ME/.test(env[k] as string));
    expect(placeholders.length).toBeGreaterThan(1);
    for (const name of placeholders) expect(load, name).toThrow(new RegExp(`\\b${name}: `));
  });

  it.each(Object.keys(LOADERS))('%s starts with generated secrets and the manifests settings (TRUST_PROXY=1)', (app) => {
    const deployment = rendered.find((d) => d.kind === 'Deployment' && d.metadata.name === app);
    const config = LOADERS[app]?.(environment(deployment, generatedSecrets())) as { TRUST_PROXY: string; NODE_ENV: string };
    expect(config.NODE_ENV).toBe('production');
    expect(config.TRUST_PROXY).toBe('1');
  });

  it.each(Object.keys(LOADERS))('%s refuses TRUST_PROXY=true in production: every hop trusted lets a client choose its address', (app) => {
    const deployment = rendered.find((d) => d.kind === 'Deployment' && d.metadata.name === app);
    const env = { ...environment(deployment, generatedSecrets()), TRUST_PROXY: 'true' };
    expect(() => LOADERS[app]?.(env)).toThrow(/TRUST_PROXY: true lets any client choose its address/);
  });
});
