// infra/pin-images.sh: third-party images pinned by digest in the Dockerfile and compose, re-pinnable, checkable.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INFRA } from './support.js';

const root = mkdtempSync(join(tmpdir(), 'pin-images-'));
mkdirSync(join(root, 'infra'));
for (const file of ['Dockerfile', 'compose.yaml']) copyFileSync(join(INFRA, file), join(root, 'infra', file));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A stand-in registry: each reference's digest is the hash of the reference and a salt, so a re-pin changes it. */
function resolver(salt: string): string {
  const path = join(root, `resolve-${salt}.sh`);
  writeFileSync(path, `#!/bin/sh\nprintf 'sha256:%s' "$(printf '%s${salt}' "$1" | sha256sum | cut -c1-64)"\n`);
  chmodSync(path, 0o755);
  return path;
}
const digest = (ref: string, salt: string) => `sha256:${createHash('sha256').update(`${ref}${salt}`).digest('hex')}`;

const run = (args: string[], resolverPath?: string) =>
  spawnSync('bash', [join(INFRA, 'pin-images.sh'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, PIN_IMAGES_ROOT: root, ...(resolverPath ? { PIN_RESOLVER: resolverPath } : {}) },
  });
const files = () => readFileSync(join(root, 'infra', 'Dockerfile'), 'utf8') + readFileSync(join(root, 'infra', 'compose.yaml'), 'utf8');
const THIRD_PARTY = ['node:24-bookworm-slim', 'postgres:17-bookworm', 'redis:7-bookworm', 'nginx:1.27-bookworm'];

describe('pin-images.sh', () => {
  it('reports every unpinned third-party image with --check', () => {
    const res = run(['--check']);
    expect(res.status).toBe(1);
    for (const ref of THIRD_PARTY) expect(res.stderr).toContain(`  ${ref}\n`);
    expect(res.stderr).not.toContain('partner-oauth');
  });

  it('pins each to tag@digest, leaves our own image alone, and then passes --check', () => {
    const res = run([], resolver('a'));
    expect(res.status, res.stderr).toBe(0);
    const text = files();
    for (const ref of THIRD_PARTY) expect(text).toContain(`${ref}@${digest(ref, 'a')}`);
    expect(text).toContain('ARG NODE_IMAGE=node:24-bookworm-slim@sha256:');
    expect(text).toContain('image: partner-oauth:latest\n');
    expect(run(['--check']).status).toBe(0);
  });

  it('re-pins to the new digest without stacking a second one', () => {
    expect(run([], resolver('b')).status).toBe(0);
    const text = files();
    for (const ref of THIRD_PARTY) {
      expect(text).toContain(`${ref}@${digest(ref, 'b')}`);
      expect(text).not.toContain(digest(ref, 'a'));
    }
    expect(text).not.toMatch(/@sha256:[0-9a-f]{64}@/);
  });

  it('refuses an answer that is not a digest and leaves every file as it was', () => {
    const before = files();
    const bad = join(root, 'bad.sh');
    // Every image resolves but the last one looked up (sorted: redis), so a partial rewrite would show.
    writeFileSync(bad, `#!/bin/sh\ncase "$1" in redis*) echo unauthorized ;; *) "${resolver('c')}" "$1" ;; esac\n`);
    chmodSync(bad, 0o755);
    const res = run([], bad);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("the registry answered 'unauthorized', not a digest");
    expect(files()).toBe(before);
  });

  it('is valid bash', () => {
    expect(() => execFileSync('bash', ['-n', join(INFRA, 'pin-images.sh')])).not.toThrow();
  });
});
