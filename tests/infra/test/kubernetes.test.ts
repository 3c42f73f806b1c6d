// infra/k8s as `kubectl kustomize` renders it: every object valid against the Kubernetes schemas (kubernetes-models),
// and consistent with each other; the rollout, exposure and secret rules of issue 17 on what is really applied.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from 'kubernetes-models';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PATHS,
  ADMIN_ROUTES,
  INFRA,
  kustomize,
  type Match,
  PORTS,
  PRIVATE_PATHS,
  PUBLIC_ROUTES,
  route,
  run,
  yamlDocuments,
} from './support.js';

const rendered = kustomize();
const migrate = kustomize(`${INFRA}k8s/migrate`);
const ofKind = (kind: string, docs = rendered) => docs.filter((d) => d.kind === kind);
const APPS = Object.keys(PORTS);
const kustomization = yamlDocuments('k8s/kustomization.yaml')[0];

/** The kubernetes-models class for an apiVersion and kind, e.g. apps/v1 Deployment -> k8s.apps.v1.Deployment. */
function modelFor(apiVersion: string, kind: string): (new (data: unknown) => { validate(): void }) | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const root = k8s as unknown as Record<string, any>;
  // kubernetes-models names a group's module in camel case: networking.k8s.io -> networkingK8sIo.
  const moduleName = (group as string)
    .split('.')
    .map((part, i) => (i === 0 ? part : part[0]?.toUpperCase() + part.slice(1)))
    .join('');
  const groupModule = group === '' ? root : root[moduleName];
  return groupModule?.[version as string]?.[kind];
}

/** The routing table of the Ingress named `name`, each backend's port checked against its service's. */
function ingressRules(name: string): [Match, string, string][] {
  const ingress = ofKind('Ingress').find((i) => i.metadata.name === name);
  return ingress.spec.rules[0].http.paths.map((p: any) => {
    expect(p.backend.service.port.number).toBe(PORTS[p.backend.service.name]);
    return [p.pathType === 'Exact' ? 'exact' : 'prefix', p.path, p.backend.service.name];
  });
}

/** infra/k8s copied to a scratch directory, so a test can run set-release.sh on it. */
const scratch: string[] = [];
function copyOfK8s(): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-'));
  scratch.push(dir);
  cpSync(`${INFRA}k8s`, dir, { recursive: true });
  return dir;
}
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('kubernetes manifests, as kubectl kustomize renders them', () => {
  it('are each valid against the schema of their apiVersion and kind', () => {
    expect(rendered.length).toBeGreaterThan(10);
    for (const doc of [...rendered, ...migrate]) {
      const Model = modelFor(doc.apiVersion, doc.kind);
      expect(Model, `no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(doc).validate(), `${doc.kind} ${doc.metadata?.name}`).not.toThrow();
      if (doc.kind !== 'Namespace') expect(doc.metadata.namespace, `${doc.kind} ${doc.metadata.name}`).toBe('partner-oauth');
    }
  });

  it('would catch a wrong type (the check bites)', () => {
    const deployment = structuredClone(ofKind('Deployment')[0]);
    deployment.spec.replicas = 'two';
    const Model = modelFor('apps/v1', 'Deployment') as NonNullable<ReturnType<typeof modelFor>>;
    expect(() => new Model(deployment).validate()).toThrow(/replicas must be integer/);
  });

  it('list every manifest file in a kustomization, the example Secrets excepted', () => {
    const [migration] = yamlDocuments('k8s/migrate/kustomization.yaml');
    const files = readdirSync(`${INFRA}k8s`).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources, 'secrets.example.yaml'].sort()).toEqual(files.sort());
    expect(migration.resources).toEqual(['job.yaml']);
  });

  it('run each service with probes on the health endpoints, resource requests and no root', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...APPS].sort());
    for (const d of deployments) {
      const name = d.metadata.name as string;
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      expect(c.args).toEqual([name]);
      expect(c.ports).toEqual([{ name: 'http', containerPort: PORTS[name], protocol: 'TCP' }]);
      expect(c.env).toContainEqual({ name: 'PORT', value: String(PORTS[name]) });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.requests.memory).toBeDefined();
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(5 + 15);
    }
  });

  it('give each Deployment a Service, an autoscaler and a disruption budget that select it', () => {
    for (const app of APPS) {
      const service = ofKind('Service').find((s) => s.metadata.name === app);
      expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': app });
      expect(service.spec.ports[0].port).toBe(PORTS[app]);
      const hpa = ofKind('HorizontalPodAutoscaler').find((h) => h.metadata.name === app);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: app });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      const pdb = ofKind('PodDisruptionBudget').find((p) => p.metadata.name === app);
      expect(pdb.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': app });
    }
  });

  it('give each secret only to the services that use it', () => {
    const holders = (name: string) =>
      ofKind('Deployment')
        .filter((d) => d.spec.template.spec.containers[0].env.some((e: any) => e.name === name))
        .map((d) => d.metadata.name)
        .sort();
    expect(holders('SESSION_SECRET')).toEqual(['authorize-ui']);
    expect(holders('WEBHOOK_SIGNING_KEY')).toEqual(['client-registry', 'token-service']);
    expect(holders('REDIS_URL')).toEqual(['authorize-ui', 'token-service']);
  });

  it('route through the public Ingress exactly the public paths, to the right services, never /metrics, /health or the admin API', () => {
    const rules = ingressRules('partner-oauth');
    for (const [, path, service] of PUBLIC_ROUTES) expect(route(rules, path), path).toBe(service);
    for (const path of [...PRIVATE_PATHS, ...ADMIN_PATHS]) expect(route(rules, path), path).toBeUndefined();
    expect(rules).toHaveLength(PUBLIC_ROUTES.length);
    expect(rules.map(([, , service]) => service)).not.toContain('client-registry');
  });

  it('route through the internal admin Ingress the admin API only', () => {
    const rules = ingressRules('partner-oauth-admin');
    for (const [, path, service] of ADMIN_ROUTES) expect(route(rules, path), path).toBe(service);
    for (const path of ADMIN_PATHS) expect(route(rules, path), path).toBe('client-registry');
    for (const path of [...PRIVATE_PATHS, '/oauth/token', '/login']) expect(route(rules, path), path).toBeUndefined();
  });
});

describe('issue 17: deployed as documented', () => {
  it('1. applies no Secret: the placeholders stay out of the kustomization and cannot overwrite the real ones', () => {
    expect(ofKind('Secret')).toEqual([]);
    expect(ofKind('Secret', migrate)).toEqual([]);
    // Every Secret the workloads read is one the example describes (so the docs' create commands cover them all).
    const example = new Map(yamlDocuments('k8s/secrets.example.yaml').map((s) => [s.metadata.name, Object.keys(s.stringData)]));
    for (const w of [...ofKind('Deployment'), ...ofKind('Job', migrate)]) {
      for (const e of w.spec.template.spec.containers[0].env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) expect(example.get(ref.name), `${w.metadata.name}: ${ref.name}/${ref.key}`).toContain(ref.key);
      }
    }
  });

  it('2. migrates with the release image, in a Job named after the release, so each release adds a Job and edits none', () => {
    const images = (docs: any[]) => new Set(docs.flatMap((d) => d.spec?.template?.spec?.containers?.map((c: any) => c.image) ?? []));
    const [job] = ofKind('Job', migrate);
    expect(ofKind('Job')).toEqual([]);
    expect(job.metadata.name).toBe(`partner-oauth-migrate-${kustomization.images[0].newTag}`);
    expect(job.spec.template.spec.containers[0].args).toEqual(['migrate']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect([...images(migrate)]).toEqual([...images(rendered)]);
    expect(images(rendered).size).toBe(1);

    // The next release, set as docs/operations.md says: the services and the Job move together, under a new Job name.
    const next = copyOfK8s();
    run('sh', [join(next, 'set-release.sh'), '1.1.0']);
    const nextServices = kustomize(next);
    const nextMigrate = kustomize(join(next, 'migrate'));
    expect([...images(nextServices)]).toEqual(['registry.example.com/partner-oauth:1.1.0']);
    expect([...images(nextMigrate)]).toEqual(['registry.example.com/partner-oauth:1.1.0']);
    expect(ofKind('Job', nextMigrate)[0].metadata.name).toBe('partner-oauth-migrate-1.1.0');
    // A tag Kubernetes could not carry in a name is refused before anything changes.
    expect(() => run('sh', [join(next, 'set-release.sh'), 'Release_2'])).toThrow(/not an image tag/);
  });

  it('3. reaches client-registry only through the internal entry, behind default-deny NetworkPolicies', () => {
    const backends = (ingress: any) => ingress.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => p.backend.service.name));
    const [publicIngress, adminIngress] = ['partner-oauth', 'partner-oauth-admin'].map((n) =>
      ofKind('Ingress').find((i) => i.metadata.name === n),
    );
    expect(backends(publicIngress)).not.toContain('client-registry');
    expect(new Set(backends(adminIngress))).toEqual(new Set(['client-registry']));
    expect(adminIngress.spec.ingressClassName).not.toBe(publicIngress.spec.ingressClassName);
    expect(adminIngress.metadata.annotations['nginx.ingress.kubernetes.io/whitelist-source-range']).toMatch(/^\d/);
    expect(adminIngress.spec.rules[0].host).not.toBe(publicIngress.spec.rules[0].host);

    const policies = ofKind('NetworkPolicy');
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress);
    expect(deny?.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    /** The namespaces allowed to open a connection to `app` on its port. */
    const admitted = (app: string) =>
      policies
        .filter((p) => p.spec.ingress && selects(p.spec.podSelector, app))
        .flatMap((p) => p.spec.ingress)
        .filter((rule: any) => rule.ports.some((port: any) => port.port === PORTS[app]))
        .flatMap((rule: any) => rule.from.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']))
        .sort();
    expect(admitted('client-registry')).toEqual(['ingress-nginx-internal', 'monitoring']);
    expect(admitted('authorize-ui')).toEqual(['ingress-nginx', 'monitoring']);
    expect(admitted('token-service')).toEqual(['ingress-nginx', 'monitoring']);
    // Egress: DNS and Postgres for every pod (the Job too), Redis for the two that use it, https out for webhooks.
    const egressPorts = (app: string) =>
      new Set(
        policies
          .filter((p) => p.spec.egress && selects(p.spec.podSelector, app))
          .flatMap((p) => p.spec.egress.flatMap((r: any) => r.ports.map((x: any) => x.port))),
      );
    expect(egressPorts('client-registry')).toEqual(new Set([53, 5432]));
    expect(egressPorts('authorize-ui')).toEqual(new Set([53, 5432, 6379, 26379]));
    expect(egressPorts('token-service')).toEqual(new Set([53, 5432, 6379, 26379, 443]));
    expect(egressPorts('partner-oauth')).toEqual(new Set([53, 5432]));
  });

  it('7. leaves the replica count to the autoscaler: no Deployment sets replicas', () => {
    for (const d of ofKind('Deployment')) {
      expect(ofKind('HorizontalPodAutoscaler').some((h) => h.spec.scaleTargetRef.name === d.metadata.name)).toBe(true);
      expect(d.spec, d.metadata.name).not.toHaveProperty('replicas');
    }
  });

  it('9. rolls the pods on a settings change, evicts one pod at a time, spreads across zones and nodes', () => {
    const [config] = ofKind('ConfigMap');
    expect(config.metadata.name).toMatch(/^partner-oauth-config-[a-z0-9]{10}$/);
    expect(config.data.TRUST_PROXY).toBe('1');
    for (const d of ofKind('Deployment')) {
      const pod = d.spec.template.spec;
      expect(pod.containers[0].envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
      expect(pod.topologySpreadConstraints.map((t: any) => t.topologyKey).sort()).toEqual([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ]);
    }
    for (const pdb of ofKind('PodDisruptionBudget')) {
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec).not.toHaveProperty('minAvailable');
    }
    // A different setting renders a different name, so the Deployments' pod templates change and roll.
    const changed = copyOfK8s();
    const env = join(changed, 'config.env');
    writeFileSync(env, readFileSync(env, 'utf8').replace('LOG_LEVEL=info', 'LOG_LEVEL=debug'));
    expect(ofKind('ConfigMap', kustomize(changed))[0].metadata.name).not.toBe(config.metadata.name);
  });
});

/** Whether a NetworkPolicy podSelector selects the pods named `app` (app.kubernetes.io/name), the Job's being `partner-oauth`. */
function selects(selector: any, app: string): boolean {
  const labels: Record<string, string> = { 'app.kubernetes.io/name': app };
  if (app !== 'partner-oauth') labels['app.kubernetes.io/part-of'] = 'partner-oauth';
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e: any) => e.operator === 'In' && e.values.includes(labels[e.key]));
  return byLabels && byExpressions;
}
