// `pnpm cli`: admin keys, accounts, apps and members, against a real database; keys work against the API at once.

import { verifyPassword } from '@partner-oauth/service-kit';
import { findAccountByEmail, listAppsForAccount } from '@partner-oauth/storage';
import { TEST_PASSWORD_PARAMS } from '@partner-oauth/storage/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/commands.js';
import { useApp } from './helpers.js';

const h = useApp();

async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(h.t.db, argv, { out: (l) => out.push(l), err: (l) => err.push(l), passwordParams: TEST_PASSWORD_PARAMS });
  return { code, out, err };
}

const get = (key: string) => h.app.inject({ method: 'GET', url: '/v1/clients', headers: { authorization: `Bearer ${key}` } });

describe('admin-keys', () => {
  it('creates a key shown once, which the API accepts, lists it without its value, and revokes it', async () => {
    const created = await cli('admin-keys', 'create', '--name', 'alice');
    expect(created.code).toBe(0);
    const key = created.out[1] as string;
    expect(key).toMatch(/^poak_[A-Za-z0-9_-]{43}$/);
    expect(created.out[0]).toMatch(/^created admin key [0-9a-f-]{36} \(alice\); it is shown this once:$/);
    expect((await get(key)).statusCode).toBe(200);

    const listed = await cli('admin-keys', 'list');
    const line = listed.out.find((l) => l.includes('\talice\t'));
    expect(line).toMatch(/\tactive\tcreated \S+\tlast used \S+$/);
    expect(listed.out.join('\n')).not.toContain(key);

    const revoked = await cli('admin-keys', 'revoke', 'alice');
    expect(revoked).toMatchObject({ code: 0, out: [expect.stringMatching(/^revoked admin key .* \(alice\)$/)] });
    expect((await get(key)).statusCode).toBe(401);
    expect((await cli('admin-keys', 'list')).out.find((l) => l.includes('\talice\t'))).toMatch(/\trevoked /);
  });

  it('audits key creation and revocation as the CLI', async () => {
    await cli('admin-keys', 'create', '--name', 'bob');
    await cli('admin-keys', 'revoke', 'bob');
    const log = await h.call({ method: 'GET', url: '/v1/audit-log?target_type=admin_key&limit=2' });
    expect(log.json().items.map((e: { action: string; admin_key_name: string }) => `${e.admin_key_name} ${e.action}`)).toEqual([
      'cli admin_key.revoke',
      'cli admin_key.create',
    ]);
  });

  it.each([
    [['admin-keys', 'create'], 'error: --name is required'],
    [['admin-keys', 'create', '--name'], expect.stringMatching(/^error: Option '--name <value>' argument missing/)],
    [['admin-keys', 'revoke'], 'error: give the id or the name of the key to revoke'],
    [['admin-keys', 'revoke', 'nobody'], 'error: no active admin key has the id or name "nobody"'],
    [['admin-keys', 'create', '--name', 'x', '--admin'], expect.stringMatching(/^error: Unknown option '--admin'/)],
    [['nothing'], 'error: unknown command "nothing"'],
    [[], 'error: give a command'],
  ])('refuses %j with exit code 2 and the usage', async (argv, message) => {
    const res = await cli(...(argv as string[]));
    expect(res.code).toBe(2);
    expect(res.err[0]).toEqual(message);
    expect(res.err[1]).toMatch(/^usage: pnpm cli <command>/);
  });
});

describe('accounts, apps and members', () => {
  it('creates an account with a hashed password, an app, and makes the account its owner', async () => {
    const account = await cli('accounts', 'create', '--email', 'Lin@Example.com', '--password', 'correct-horse-1');
    expect(account.code).toBe(0);
    const row = await findAccountByEmail(h.t.db, 'lin@example.com');
    expect(row?.password_hash).not.toContain('correct-horse-1');
    expect(await verifyPassword('correct-horse-1', row?.password_hash as string)).toBe(true);

    const app = await cli('apps', 'create', '--name', 'Lin Shop');
    const appId = app.out[0] as string;
    expect(appId).toMatch(/^[0-9a-f]{24}$/);
    const member = await cli('members', 'add', '--app', appId, '--email', 'lin@example.com', '--role', 'owner');
    expect(member).toEqual({ code: 0, out: [`lin@example.com is now an owner of Lin Shop (${appId})`], err: [] });
    expect(await listAppsForAccount(h.t.db, row?.id as string)).toEqual([{ id: appId, name: 'Lin Shop' }]);
  });

  it.each([
    [
      ['accounts', 'create', '--email', 'ada@example.com', '--password', 'long-enough-1'],
      'error: an account with the email ada@example.com already exists',
    ],
    [['accounts', 'create', '--email', 'not-an-email', '--password', 'long-enough-1'], 'error: --email must be an email address'],
    [['accounts', 'create', '--email', 'x@example.com', '--password', 'short'], 'error: --password must be at least 10 characters'],
    [['apps', 'create'], 'error: --name is required'],
    [['members', 'add', '--app', 'nope', '--email', 'ada@example.com'], 'error: no app has the id nope'],
    [['members', 'add', '--app', 'x', '--email', 'ada@example.com', '--role', 'admin'], 'error: --role must be owner or member'],
  ])('refuses %j', async (argv, message) => {
    const res = await cli(...argv);
    expect(res.code).toBe(2);
    expect(res.err[0]).toBe(message);
  });

  it('refuses to add an unknown email to an app', async () => {
    const appId = h.t.ids.apps['Grace Shop'] as string;
    const res = await cli('members', 'add', '--app', appId, '--email', 'ghost@example.com');
    expect(res.err[0]).toBe('error: no account has the email ghost@example.com');
  });
});
