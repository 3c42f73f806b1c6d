// infra/k8s: every manifest valid against the Kubernetes schemas (kubernetes-models), and consistent with each other.
import { readdirSync } from 'node:fs';
import * as k8s from 'kubernetes-models';
import { describe, expect, it } from 'vitest';
import { INFRA, type Match, PORTS, PRIVATE_PATHS, PUBLIC_ROUTES, route, yamlDocuments } from './support.js';

const FILES = readdirSync(`${INFRA}k8s`).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const docs = FILES.flatMap((file) => yamlDocuments(`k8s/${file}`).map((doc) => ({ file, doc })));
const ofKind = (kind: string) => docs.map((d) => d.doc).filter((d) => d.kind === kind);
const APPS = Object.keys(PORTS);

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

describe('kubernetes manifests', () => {
  it('are each valid against the schema of their apiVersion and kind', () => {
    expect(docs.length).toBeGreaterThan(10);
    for (const { file, doc } of docs) {
      const Model = modelFor(doc.apiVersion, doc.kind);
      expect(Model, `${file}: no schema for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(doc).validate(), `${file}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    }
  });

  it('would catch a wrong type (the check bites)', () => {
    const deployment = structuredClone(ofKind('Deployment')[0]);
    deployment.spec.replicas = 'two';
    const Model = modelFor('apps/v1', 'Deployment') as NonNullable<ReturnType<typeof modelFor>>;
    expect(() => new Model(deployment).validate()).toThrow(/replicas must be integer/);
  });

  it('are all listed in the kustomization', () => {
    const [kustomization] = yamlDocuments('k8s/kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual([...FILES].sort());
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

  it('reference only Secrets and keys that exist, and give each secret only to the services that use it', () => {
    const secrets = new Map(ofKind('Secret').map((s) => [s.metadata.name, Object.keys(s.stringData)]));
    const workloads = [...ofKind('Deployment'), ...ofKind('Job')];
    for (const w of workloads) {
      for (const c of w.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) expect(secrets.get(ref.name), `${w.metadata.name}: ${ref.name}/${ref.key}`).toContain(ref.key);
        }
      }
    }
    const holders = (name: string) =>
      ofKind('Deployment')
        .filter((d) => d.spec.template.spec.containers[0].env.some((e: any) => e.name === name))
        .map((d) => d.metadata.name)
        .sort();
    expect(holders('SESSION_SECRET')).toEqual(['authorize-ui']);
    expect(holders('WEBHOOK_SIGNING_KEY')).toEqual(['client-registry', 'token-service']);
    expect(holders('REDIS_URL')).toEqual(['authorize-ui', 'token-service']);
  });

  it('migrate with a Job running the image with the migrate argument', () => {
    const [job] = ofKind('Job');
    expect(job.spec.template.spec.containers[0].args).toEqual(['migrate']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('route through the Ingress exactly the public paths, to the right services, and never /metrics or /health', () => {
    const [ingress] = ofKind('Ingress');
    const rules: [Match, string, string][] = ingress.spec.rules[0].http.paths.map((p: any) => {
      expect(p.backend.service.port.number).toBe(PORTS[p.backend.service.name]);
      return [p.pathType === 'Exact' ? 'exact' : 'prefix', p.path, p.backend.service.name];
    });
    for (const [, path, service] of PUBLIC_ROUTES) expect(route(rules, path), path).toBe(service);
    for (const path of PRIVATE_PATHS) expect(route(rules, path), path).toBeUndefined();
    expect(rules).toHaveLength(PUBLIC_ROUTES.length);
  });
});
