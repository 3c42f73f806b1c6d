// Configuration: defaults, the development signing key outside production, and refusal in production.

import { ConfigError } from '@partner-oauth/service-kit';
import { DEV_WEBHOOK_SIGNING_KEY } from '@partner-oauth/webhooks';
import { describe, expect, it } from 'vitest';
import { loadClientRegistryConfig } from '../src/config.js';

const KEY = 'a-real-webhook-signing-key-with-entropy-456';
const ISSUER = 'https://auth.example.com';

describe('loadClientRegistryConfig', () => {
  it('fills the defaults', () => {
    const config = loadClientRegistryConfig({});
    expect(config).toMatchObject({
      PORT: 3002,
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      ISSUER: 'http://localhost:3000',
      WEBHOOK_SIGNING_KEY: DEV_WEBHOOK_SIGNING_KEY,
      usingDevWebhookSigningKey: true,
    });
  });

  it('reads PORT as a number', () => {
    expect(loadClientRegistryConfig({ PORT: '4002' }).PORT).toBe(4002);
    expect(() => loadClientRegistryConfig({ PORT: 'http' })).toThrow(ConfigError);
  });

  it('ignores ADMIN_TOKEN: the admin API accepts admin keys only', () => {
    expect(loadClientRegistryConfig({ ADMIN_TOKEN: 'a-real-admin-token-with-enough-entropy-123' })).not.toHaveProperty('ADMIN_TOKEN');
  });

  it('accepts a long enough signing key and an https issuer in production', () => {
    const config = loadClientRegistryConfig({ NODE_ENV: 'production', WEBHOOK_SIGNING_KEY: KEY, ISSUER });
    expect(config).toMatchObject({ WEBHOOK_SIGNING_KEY: KEY, ISSUER, usingDevWebhookSigningKey: false });
  });

  it('stands in the development signing key outside production, and flags it', () => {
    for (const NODE_ENV of ['development', 'test', undefined]) {
      const config = loadClientRegistryConfig({ NODE_ENV });
      expect(config.WEBHOOK_SIGNING_KEY).toBe(DEV_WEBHOOK_SIGNING_KEY);
      expect(config.usingDevWebhookSigningKey).toBe(true);
    }
    expect(loadClientRegistryConfig({ WEBHOOK_SIGNING_KEY: KEY }).usingDevWebhookSigningKey).toBe(false);
  });

  it('refuses to start in production without WEBHOOK_SIGNING_KEY or with the development key, naming it', () => {
    const message = 'invalid configuration:\n  WEBHOOK_SIGNING_KEY: must be set in production, to something other than the development key';
    for (const WEBHOOK_SIGNING_KEY of [undefined, '', DEV_WEBHOOK_SIGNING_KEY]) {
      const load = () => loadClientRegistryConfig({ NODE_ENV: 'production', WEBHOOK_SIGNING_KEY, ISSUER });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(message);
    }
  });

  it('names every unsafe default at once in production', () => {
    expect(() => loadClientRegistryConfig({ NODE_ENV: 'production' })).toThrow(
      'invalid configuration:\n  WEBHOOK_SIGNING_KEY: must be set in production, to something other than the development key\n' +
        '  ISSUER: must be an https URL in production',
    );
  });

  it('refuses a short WEBHOOK_SIGNING_KEY in every environment', () => {
    for (const NODE_ENV of ['development', 'production']) {
      expect(() => loadClientRegistryConfig({ NODE_ENV, WEBHOOK_SIGNING_KEY: 'short', ISSUER })).toThrow(/WEBHOOK_SIGNING_KEY/);
    }
  });
});
