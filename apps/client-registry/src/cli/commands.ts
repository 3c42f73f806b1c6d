// The operator CLI's commands: admin keys, resource servers, accounts, apps and members, run against a database handed in.
import { parseArgs } from 'node:util';
import {
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  MAX_ROTATION_OVERLAP_SECONDS,
  TOKEN_LIFETIMES,
  type TokenLifetimeField,
} from '@partner-oauth/contracts';
import { hashPassword, type PasswordHashParams, randomToken, sha256 } from '@partner-oauth/service-kit';
import {
  addAppMember,
  appendAudit,
  createAccount,
  createAdminKey,
  createApp,
  createResourceServer,
  type Db,
  findAccountByEmail,
  findApp,
  findClientForUpdate,
  findResourceServer,
  listAdminKeys,
  listResourceServers,
  revokeAdminKey,
  revokeResourceServer,
  rotateResourceServerSecret,
  updateClient,
} from '@partner-oauth/storage';
import { toClientView } from '../client-view.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Password hashing cost; tests pass a cheap one. */
  passwordParams?: PasswordHashParams;
}

export const USAGE = `usage: pnpm cli <command>
  admin-keys create --name <name> [--read-only]
                                         create an admin API key (read-only: GET only); its value is printed once
  admin-keys list                        list admin keys (never their values)
  admin-keys revoke <id or name>         revoke a key
  resource-servers create --name <name> [--id <id>]
                                         a credential for /oauth/introspect; its secret is printed once
  resource-servers list                  id, name, state; never a secret
  resource-servers rotate <id> [--overlap <seconds>]
                                         a new secret, printed once; the old one works for the overlap (default 86400)
  resource-servers revoke <id>           every secret of it stops working
  accounts create --email <email> --password <password>
  apps create --name <name>              prints the new app's id
  members add --app <app id> --email <email> [--role owner|member]
  clients token-expiry <client id> --on|--off [--access-lifetime <s>] [--refresh-idle <s>] [--refresh-absolute <s>]
                                         expiring access tokens and rotating refresh tokens for tokens issued from now on`;

class UsageError extends Error {}

/** CLI changes are audited like API ones, under a name that says they came from the operator's shell. */
const CLI_ACTOR = { adminKeyId: null, adminKeyName: 'cli' };

function flags(args: string[], options: Record<string, { type: 'string' | 'boolean' }>): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function required(values: Record<string, string | boolean | undefined>, name: string): string {
  const raw = values[name];
  const value = typeof raw === 'string' ? raw.trim() : undefined;
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

async function run(db: Db, argv: string[], io: CliIo): Promise<void> {
  const [group, action, ...rest] = argv;
  const command = `${group ?? ''} ${action ?? ''}`;
  switch (command) {
    case 'admin-keys create': {
      const values = flags(rest, { name: { type: 'string' }, 'read-only': { type: 'boolean' } });
      const name = required(values, 'name');
      if (name.length > 100) throw new UsageError('--name must be at most 100 characters');
      const access = values['read-only'] === true ? 'read' : 'full';
      const key = randomToken(32, 'poak_');
      const row = await createAdminKey(db, { name, keyHash: sha256(key), access });
      await appendAudit(db, {
        ...CLI_ACTOR,
        action: 'admin_key.create',
        targetType: 'admin_key',
        targetId: row.id,
        after: { id: row.id, name, access },
      });
      io.out(`created ${access === 'read' ? 'read-only ' : ''}admin key ${row.id} (${name}); it is shown this once:`);
      io.out(key);
      return;
    }
    case 'admin-keys list': {
      flags(rest, {});
      for (const k of await listAdminKeys(db)) {
        const status = k.revoked_at ? `revoked ${new Date(k.revoked_at).toISOString()}` : 'active';
        const used = k.last_used_at ? new Date(k.last_used_at).toISOString() : 'never';
        io.out(`${k.id}\t${k.name}\t${k.access}\t${status}\tcreated ${new Date(k.created_at).toISOString()}\tlast used ${used}`);
      }
      return;
    }
    case 'admin-keys revoke': {
      const target = rest[0];
      if (!target || rest.length !== 1) throw new UsageError('give the id or the name of the key to revoke');
      const revoked = await revokeAdminKey(db, target);
      if (revoked.length === 0) throw new UsageError(`no active admin key has the id or name "${target}"`);
      for (const k of revoked) {
        await appendAudit(db, {
          ...CLI_ACTOR,
          action: 'admin_key.revoke',
          targetType: 'admin_key',
          targetId: k.id,
          before: { id: k.id, name: k.name },
        });
        io.out(`revoked admin key ${k.id} (${k.name})`);
      }
      return;
    }
    case 'resource-servers create': {
      const values = flags(rest, { name: { type: 'string' }, id: { type: 'string' } });
      const name = required(values, 'name');
      const id = typeof values.id === 'string' ? values.id : `rs_${randomToken(9)}`;
      if (name.length > 100 || !/^[A-Za-z0-9._-]{1,64}$/.test(id))
        throw new UsageError('--name at most 100 characters, --id of [A-Za-z0-9._-]');
      if (await findResourceServer(db, id)) throw new UsageError(`a resource server with the id ${id} exists`);
      const secret = randomToken(32, 'pors_');
      await createResourceServer(db, { id, name, secretHash: sha256(secret) });
      await appendAudit(db, {
        ...CLI_ACTOR,
        action: 'resource_server.create',
        targetType: 'resource_server',
        targetId: id,
        after: { id, name },
      });
      io.out(`created resource server ${id} (${name}); introspect with HTTP Basic ${id}:<secret>; the secret is shown this once:`);
      io.out(secret);
      return;
    }
    case 'resource-servers list': {
      flags(rest, {});
      for (const r of await listResourceServers(db)) {
        const status = r.revoked_at ? `revoked ${new Date(r.revoked_at).toISOString()}` : 'active';
        io.out(`${r.id}\t${r.name}\t${status}\tcreated ${new Date(r.created_at).toISOString()}`);
      }
      return;
    }
    case 'resource-servers rotate': {
      const [id, ...more] = rest;
      if (!id || id.startsWith('--')) throw new UsageError('give the id of the resource server to rotate');
      const values = flags(more, { overlap: { type: 'string' } });
      const overlap = typeof values.overlap === 'string' ? Number(values.overlap) : DEFAULT_ROTATION_OVERLAP_SECONDS;
      if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_ROTATION_OVERLAP_SECONDS)
        throw new UsageError(`--overlap must be whole seconds from 0 to ${MAX_ROTATION_OVERLAP_SECONDS}`);
      const secret = randomToken(32, 'pors_');
      const rotated = await rotateResourceServerSecret(db, id, sha256(secret), new Date(Date.now() + overlap * 1000));
      if (!rotated) throw new UsageError(`no active resource server has the id "${id}"`);
      await appendAudit(db, {
        ...CLI_ACTOR,
        action: 'resource_server.rotate',
        targetType: 'resource_server',
        targetId: id,
        after: { id, overlap },
      });
      io.out(`rotated resource server ${id}; the old secret works for ${overlap} s more; the new one is shown this once:`);
      io.out(secret);
      return;
    }
    case 'resource-servers revoke': {
      const id = rest[0];
      if (!id || rest.length !== 1) throw new UsageError('give the id of the resource server to revoke');
      const revoked = await revokeResourceServer(db, id);
      if (!revoked) throw new UsageError(`no active resource server has the id "${id}"`);
      await appendAudit(db, {
        ...CLI_ACTOR,
        action: 'resource_server.revoke',
        targetType: 'resource_server',
        targetId: id,
        before: { id, name: revoked.name },
      });
      io.out(`revoked resource server ${id} (${revoked.name})`);
      return;
    }
    case 'accounts create': {
      const values = flags(rest, { email: { type: 'string' }, password: { type: 'string' } });
      const email = required(values, 'email');
      const password = typeof values.password === 'string' ? values.password : '';
      if (!EMAIL.test(email)) throw new UsageError('--email must be an email address');
      if (password.length < 10) throw new UsageError('--password must be at least 10 characters');
      if (await findAccountByEmail(db, email)) throw new UsageError(`an account with the email ${email} already exists`);
      const id = await createAccount(db, { email, passwordHash: await hashPassword(password, io.passwordParams) });
      await appendAudit(db, { ...CLI_ACTOR, action: 'account.create', targetType: 'account', targetId: id, after: { id, email } });
      io.out(`created account ${id} (${email})`);
      return;
    }
    case 'apps create': {
      const name = required(flags(rest, { name: { type: 'string' } }), 'name');
      const id = await createApp(db, name);
      await appendAudit(db, { ...CLI_ACTOR, action: 'app.create', targetType: 'app', targetId: id, after: { id, name } });
      io.out(id);
      return;
    }
    case 'members add': {
      const values = flags(rest, { app: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } });
      const appId = required(values, 'app');
      const email = required(values, 'email');
      const role = values.role ?? 'member';
      if (role !== 'owner' && role !== 'member') throw new UsageError('--role must be owner or member');
      const app = await findApp(db, appId);
      if (!app) throw new UsageError(`no app has the id ${appId}`);
      const account = await findAccountByEmail(db, email);
      if (!account) throw new UsageError(`no account has the email ${email}`);
      await addAppMember(db, app.id, account.id, role);
      await appendAudit(db, {
        ...CLI_ACTOR,
        action: 'member.add',
        targetType: 'app',
        targetId: app.id,
        after: { app_id: app.id, account_id: account.id, role },
      });
      io.out(`${email} is now ${role === 'owner' ? 'an owner' : 'a member'} of ${app.name} (${app.id})`);
      return;
    }
    case 'clients token-expiry': {
      const [clientId, ...more] = rest;
      if (!clientId || clientId.startsWith('--')) throw new UsageError('give the id of the client');
      const values = flags(more, {
        on: { type: 'boolean' },
        off: { type: 'boolean' },
        'access-lifetime': { type: 'string' },
        'refresh-idle': { type: 'string' },
        'refresh-absolute': { type: 'string' },
      });
      if (values.on === values.off) throw new UsageError('give exactly one of --on and --off');
      const seconds = (flag: string, field: TokenLifetimeField): number | undefined => {
        const raw = values[flag];
        if (typeof raw !== 'string') return undefined;
        const { minimum, maximum } = TOKEN_LIFETIMES[field];
        const n = Number(raw);
        if (!Number.isInteger(n) || n < minimum || n > maximum)
          throw new UsageError(`--${flag} must be whole seconds from ${minimum} to ${maximum}`);
        return n;
      };
      const patch = {
        expiring_tokens: values.on === true,
        access_token_lifetime: seconds('access-lifetime', 'access_token_lifetime'),
        refresh_token_idle_lifetime: seconds('refresh-idle', 'refresh_token_idle_lifetime'),
        refresh_token_absolute_lifetime: seconds('refresh-absolute', 'refresh_token_absolute_lifetime'),
      };
      const updated = await db.transaction().execute(async (trx) => {
        const current = await findClientForUpdate(trx, clientId);
        if (!current) throw new UsageError(`no client has the id "${clientId}"`);
        const idle = patch.refresh_token_idle_lifetime ?? current.refresh_token_idle_lifetime;
        const absolute = patch.refresh_token_absolute_lifetime ?? current.refresh_token_absolute_lifetime;
        if (idle > absolute) throw new UsageError(`the refresh idle lifetime (${idle}) must not exceed the absolute one (${absolute})`);
        const row = await updateClient(trx, clientId, patch);
        if (!row) throw new UsageError(`no client has the id "${clientId}"`);
        await appendAudit(trx, {
          ...CLI_ACTOR,
          action: 'client.update',
          targetType: 'client',
          targetId: clientId,
          before: toClientView(current),
          after: toClientView(row),
        });
        return row;
      });
      io.out(
        updated.expiring_tokens
          ? `${clientId}: expiring tokens on (access ${updated.access_token_lifetime} s, refresh idle ${updated.refresh_token_idle_lifetime} s, absolute ${updated.refresh_token_absolute_lifetime} s) for tokens issued from now on`
          : `${clientId}: expiring tokens off; tokens issued from now on live until revoked`,
      );
      return;
    }
    default:
      throw new UsageError(group === undefined ? 'give a command' : `unknown command "${command.trim()}"`);
  }
}

/** Runs one command; the exit code is 0 on success, 2 on a usage error. */
export async function runCli(db: Db, argv: string[], io: CliIo): Promise<number> {
  try {
    await run(db, argv, io);
    return 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`error: ${err.message}`);
    io.err(USAGE);
    return 2;
  }
}
