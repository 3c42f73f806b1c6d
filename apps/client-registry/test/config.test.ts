// Configuration: defaults, the development token outside production, and refusal in production.
import { ConfigError } from '@partner-oauth/service-kit';
import { describe, expect, it } from 'vitest';
import { DEV_ADMIN_TOKEN, loadRegistryConfig } from '../src/config.js';

const TOKEN = 'a-real-admin-token-with-enough-entropy-123';

describe('loadRegistryConfig', () => {
  it('fills the defaults', () => {
    const config = loadRegistryConfig({ ADMIN_TOKEN: TOKEN });
    expect(config).toMatchObject({ PORT: 3002, HOST: '127.0.0.1', NODE_ENV: 'development', ADMIN_TOKEN: TOKEN, usingDevAdminToken: false });
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
    expect(() => loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: DEV_ADMIN_TOKEN })).toThrow(
      /ADMIN_TOKEN: must not be the development token/,
    );
  });

  it('refuses a short ADMIN_TOKEN in every environment', () => {
    expect(() => loadRegistryConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
    expect(() => loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
  });

  it('accepts a long enough token in production', () => {
    expect(loadRegistryConfig({ NODE_ENV: 'production', ADMIN_TOKEN: TOKEN }).usingDevAdminToken).toBe(false);
  });
});
