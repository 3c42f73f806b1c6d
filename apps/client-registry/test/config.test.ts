// Configuration: defaults, the development token and signing key outside production, and refusal in production.
import { ConfigError, DEV_WEBHOOK_SIGNING_KEY } from '@partner-oauth/service-kit';
import { describe, expect, it } from 'vitest';
import { DEV_ADMIN_TOKEN, loadRegistryConfig } from '../src/config.js';

const TOKEN = 'a-real-admin-token-with-enough-entropy-123';
const KEY = 'a-real-webhook-signing-key-with-entropy-456';

describe('loadRegistryConfig', () => {
  it('fills the defaults', () => {
    const config = loadRegistryConfig({ ADMIN_TOKEN: TOKEN });
    expect(config).toMatchObject({
      PORT: 3002,
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      ADMIN_TOKEN: TOKEN,
      usingDevAdminToken: false,
      WEBHOOK_SIGNING_KEY: DEV_WEBHOOK_SIGNING_KEY,
      usingDevWebhookSigningKey: true,
    });
  });

  it('reads PORT as a number', () => {
    expect(loadRegistryConfig({ PORT: '4002', ADMIN_TOKEN: TOKEN }).PORT).toBe(4002);
    expect(() => loadRegistryConfig({ PORT: 'http', ADMIN_TOKEN: TOKEN })).toThrow(ConfigError);
  });

  it('stands in the development token outside production, and flags it', () => {
    for (const NODE_ENV of ['development', 'test', undefined]) {
      const config = loadRegistryConfig({ NODE_ENV });
      expect(config.ADMIN_TOKEN).toBe(DEV_ADMIN_TOKEN);
      expect(config.usingDevAdminToken).toBe(true);
    }
  });

  it('refuses to start in production without ADMIN_TOKEN, naming it', () => {
    expect(() => loadRegistryConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadRegistryConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN/);
    expect(() => loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: '' })).toThrow(/ADMIN_TOKEN/);
  });

  it('refuses the development token in production', () => {
    expect(() => loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: DEV_ADMIN_TOKEN, WEBHOOK_SIGNING_KEY: KEY })).toThrow(
      /ADMIN_TOKEN: must not be the development token/,
    );
  });

  it('refuses a short ADMIN_TOKEN in every environment', () => {
    expect(() => loadRegistryConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
    expect(() => loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
  });

  it('accepts a long enough token and signing key in production', () => {
    const config = loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: TOKEN, WEBHOOK_SIGNING_KEY: KEY });
    expect(config).toMatchObject({
      ADMIN_TOKEN: TOKEN,
      WEBHOOK_SIGNING_KEY: KEY,
      usingDevAdminToken: false,
      usingDevWebhookSigningKey: false,
    });
  });

  it('stands in the development signing key outside production, and flags it', () => {
    for (const NODE_ENV of ['development', 'test', undefined]) {
      const config = loadRegistryConfig({ NODE_ENV, ADMIN_TOKEN: TOKEN });
      expect(config.WEBHOOK_SIGNING_KEY).toBe(DEV_WEBHOOK_SIGNING_KEY);
      expect(config.usingDevWebhookSigningKey).toBe(true);
    }
    expect(loadRegistryConfig({ ADMIN_TOKEN: TOKEN, WEBHOOK_SIGNING_KEY: KEY }).usingDevWebhookSigningKey).toBe(false);
  });

  it('refuses to start in production without WEBHOOK_SIGNING_KEY or with the development key, naming it', () => {
    const message = 'invalid configuration:\n  WEBHOOK_SIGNING_KEY: must be set in production, to something other than the development key';
    for (const WEBHOOK_SIGNING_KEY of [undefined, '', DEV_WEBHOOK_SIGNING_KEY]) {
      const load = () => loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: TOKEN, WEBHOOK_SIGNING_KEY });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(message);
    }
  });

  it('names both development defaults at once in production', () => {
    expect(() => loadRegistryConfig({ NODE_ENV: 'production' })).toThrow(
      'invalid configuration:\n  ADMIN_TOKEN: is required in production (at least 32 characters)\n' +
        '  WEBHOOK_SIGNING_KEY: must be set in production, to something other than the development key',
    );
  });

  it('refuses a short WEBHOOK_SIGNING_KEY in every environment', () => {
    for (const NODE_ENV of ['development', 'production']) {
      expect(() => loadRegistryConfig({ NODE_ENV, ADMIN_TOKEN: TOKEN, WEBHOOK_SIGNING_KEY: 'short' })).toThrow(/WEBHOOK_SIGNING_KEY/);
    }
  });
});
