// infra/Dockerfile: multi-stage from a pruned workspace, non-root, with a health check; start.mjs knows every service.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startFlags } from '@partner-oauth/test-support/processes';
import { describe, expect, it } from 'vitest';
import { INFRA, PORTS, read, yamlDocuments } from './support.js';

const dockerfile = read('Dockerfile');
const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map(([, image, name]) => ({ image, name }));
const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

describe('Dockerfile', () => {
  it('builds in stages from a turbo-pruned workspace with the lockfile frozen', () => {
    expect(stages.map((s) => s.name)).toEqual(['tools', 'prune', 'build', 'runtime']);
    expect(dockerfile).toMatch(
      /RUN turbo prune @partner-oauth\/authorize-ui @partner-oauth\/token-service @partner-oauth\/client-registry/,
    );
    expect(dockerfile).toContain('--docker');
    expect(dockerfile).toContain('COPY --from=prune /src/out/json/ .');
    expect(dockerfile).toContain('pnpm install --frozen-lockfile');
    // The tool versions the workspace pins.
    expect(dockerfile).toContain('pnpm@12.4.2');
    expect(dockerfile).toContain('turbo@2.11.11');
  });

  it('runs the last stage as a non-root user with a liveness health check', () => {
    const users = [...lastStage.matchAll(/^USER (\S+)$/gm)].map(([, u]) => u);
    expect(users.at(-1)).toBe('node');
    expect(lastStage).not.toMatch(/^USER (root|0)$/m);
    expect(lastStage).toMatch(/^HEALTHCHECK .*\n\s+CMD \[.*\/health\/live/m);
    expect(lastStage).toContain('ENV NODE_ENV=production');
    // The heap bounds and the malloc setting the bench measures the services with (docs/performance.md).
    expect(lastStage).toContain('--max-semi-space-size=4 --max-old-space-size=96');
    expect(lastStage).toMatch(/MALLOC_MMAP_THRESHOLD_=1048576/);
    expect(lastStage).toMatch(/MALLOC_ARENA_MAX=2/);
    expect(lastStage).toContain('ENTRYPOINT ["node", "/app/infra/start.mjs"]');
  });

  it('runs each service with the heap flags of its start script (what the bench measures): the image default, or its own', () => {
    // The bench's own reading of the start scripts (test-support's startFlags), as one NODE_OPTIONS string.
    const flags = (app: string) => startFlags(app).join(' ');
    const imageDefault = /ENV NODE_OPTIONS="([^"]+)"/.exec(lastStage)?.[1];
    const compose = yamlDocuments('compose.yaml')[0] as { services: Record<string, { environment: Record<string, string> }> };
    for (const app of ['authorize-ui', 'token-service', 'client-registry']) {
      const workload = yamlDocuments(`k8s/${app}.yaml`).find((d: any) => d?.kind === 'Deployment') as any;
      const k8sOverride = workload.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'NODE_OPTIONS')?.value;
      const composeOverride = compose.services[app]?.environment.NODE_OPTIONS;
      expect([app, composeOverride ?? imageDefault, k8sOverride ?? imageDefault]).toEqual([app, flags(app), flags(app)]);
    }
    expect(flags('token-service')).toBe('--max-semi-space-size=8 --max-old-space-size=96');
    // The malloc settings too: each start script sets what the image sets (and the bench, docs/performance.md item 36).
    for (const app of ['authorize-ui', 'token-service', 'client-registry']) {
      const start = (JSON.parse(readFileSync(join(ROOT, 'apps', app, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts
        .start;
      for (const setting of ['MALLOC_MMAP_THRESHOLD_=1048576', 'MALLOC_ARENA_MAX=2']) {
        expect([app, start.includes(setting)]).toEqual([app, true]);
        expect(lastStage).toContain(setting);
      }
    }
  });

  it('keeps dependencies and build output of the host out of the build context', () => {
    const ignore = read('Dockerfile.dockerignore').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.data']));
  });
});

describe('start.mjs', () => {
  const start = read('start.mjs');
  it('maps each service to the production bundle its package builds', () => {
    for (const app of Object.keys(PORTS)) {
      expect(start).toContain(`'${app}': '../apps/${app}/dist/bundle/server.js'`);
      expect(JSON.parse(read(`../apps/${app}/package.json`)).scripts.build).toContain('scripts/bundle.mjs');
      expect(existsSync(`${INFRA}../apps/${app}/src/server.ts`)).toBe(true);
    }
    expect(start).toContain("await import('../packages/storage/dist/cli.js')");
    expect(start).toContain("await import('../apps/client-registry/dist/cli.js')");
    expect(existsSync(`${INFRA}../apps/client-registry/src/cli.ts`)).toBe(true);
    expect(existsSync(`${INFRA}../packages/storage/src/cli.ts`)).toBe(true);
  });
});
