// Builds the real app on a per-file clone of the template database, with helpers for authenticated calls.
import { sha256 } from '@partner-oauth/service-kit';
import { createAdminKey } from '@partner-oauth/storage';
import { type AppHarness, useApp as useTestApp } from '@partner-oauth/test-support/app';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadClientRegistryConfig } from '../src/config.js';

export const ADMIN_TOKEN = 'poak_test-admin-key-0123456789abcdefghijklmnop';
export const ADMIN_KEY_NAME = 'test-suite';
export const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const WEBHOOK_SIGNING_KEY = 'test-webhook-signing-key-0123456789abcdefghij';

export interface Harness extends AppHarness {
  /** The test suite's own admin key (full access). */
  adminKeyId: string;
  /** An authenticated request. */
  call(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

/** Registers beforeAll/afterAll hooks; the returned object is filled in once they run. */
export function useApp(): Harness {
  return useTestApp<Harness>({
    redis: false,
    build: ({ t }) => buildApp({ config: loadClientRegistryConfig({ NODE_ENV: 'test', WEBHOOK_SIGNING_KEY }), db: t.db, logger: false }),
    extend: async ({ app, t }) => ({
      adminKeyId: (await createAdminKey(t.db, { name: ADMIN_KEY_NAME, keyHash: sha256(ADMIN_TOKEN) })).id,
      call: (opts: InjectOptions) => app.inject({ ...opts, headers: { ...AUTH, ...opts.headers } }),
    }),
  });
}

export const validClient = {
  client_name: 'Acme Helpdesk',
  description: 'Answers your customers from Acme.',
  client_uri: 'https://acme.example',
  logo_uri: 'https://cdn.acme.example/logo.png',
  policy_uri: 'https://acme.example/privacy',
  tos_uri: 'https://acme.example/terms',
  redirect_uris: ['https://acme.example/oauth/callback'],
};

export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const CLIENT_ID = /^[a-z2-7]{20}$/;
