// infra/prometheus: rules promtool accepts and its unit tests fire as intended, over metrics the services really export,
// scraped under the job the rules name; each alert explained in docs/operations.md.
import { readFileSync } from 'node:fs';
import { createServiceMetrics, observabilityPlugin } from '@partner-oauth/service-kit';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { INFRA, kustomize, run, tool, yamlDocuments } from './support.js';

const [rules] = yamlDocuments('prometheus/alerts.yaml');
const alerts = rules.groups.flatMap((g: any) => g.rules);
const operations = readFileSync(`${INFRA}../docs/operations.md`, 'utf8');
const TESTS = new URL('../prometheus/', import.meta.url).pathname;

/** What kube-state-metrics exports (the services cannot report their own restarts and OOM kills). */
const KUBE_STATE_METRICS = ['kube_pod_container_status_restarts_total', 'kube_pod_container_status_last_terminated_reason'];
/** token-service's outbox gauges: apps/token-service/test/observability.test.ts reads them from its /metrics. */
const TOKEN_SERVICE_ONLY = ['webhook_outbox_pending', 'webhook_outbox_oldest_seconds'];

/** Every metric name a service's /metrics serves, read from a real one (observability plugin: domain, HTTP, process). */
async function exported(): Promise<Set<string>> {
  const app = Fastify({ logger: false });
  await app.register(observabilityPlugin, { service: 'any', checks: { postgres: async () => true } });
  await app.ready();
  const body = (await app.inject('/metrics')).body;
  await app.close();
  const names = [...body.matchAll(/^# TYPE (\w+) /gm)].map(([, n]) => n as string);
  return new Set([...names, 'up', ...KUBE_STATE_METRICS, ...TOKEN_SERVICE_ONLY]);
}

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const promtool = tool('promtool', 'prometheus');
    expect(run(promtool, ['check', 'rules', `${INFRA}prometheus/alerts.yaml`])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire as tests/infra/prometheus/alerts.test.yaml expects (promtool test rules)', () => {
    const promtool = tool('promtool', 'prometheus');
    expect(run(promtool, ['test', 'rules', 'alerts.test.yaml'], { cwd: TESTS })).toContain('SUCCESS');
  });

  it('each has a name, an expression, a severity and a summary', () => {
    expect(alerts.length).toBeGreaterThan(5);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^PartnerOAuth[A-Za-z]+$/);
      expect(typeof a.expr).toBe('string');
      expect(['page', 'warn']).toContain(a.labels.severity);
      expect(a.annotations.summary).toBeTruthy();
    }
  });

  it('include restarts, OOM kills, heap, event-loop lag, pool waiters and the webhook backlog (issue 17 item 5)', () => {
    const names = alerts.map((a: any) => a.alert);
    for (const name of [
      'PartnerOAuthRestarting',
      'PartnerOAuthOOMKilled',
      'PartnerOAuthHeapNearLimit',
      'PartnerOAuthEventLoopLag',
      'PartnerOAuthDbPoolWaiting',
      'PartnerOAuthWebhookBacklog',
    ])
      expect(names).toContain(name);
  });

  it('use only metrics the services (or kube-state-metrics) export, from the job the scrape config names', async () => {
    const known = await exported();
    for (const a of alerts) {
      const used = [...(a.expr as string).matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)];
      expect(used.length, a.alert).toBeGreaterThan(0);
      for (const [, name, selector] of used) {
        const base = (name as string).replace(/_(bucket|count|sum)$/, '');
        expect(known, `${a.alert} uses ${name}`).toContain(known.has(name as string) ? name : base);
        if (!KUBE_STATE_METRICS.includes(name as string)) expect(selector, `${a.alert}: ${name}`).toContain('job="partner-oauth"');
      }
    }
  });

  it('count a pod first replay and first given-up notification: the counters start at 0 (issue 17 item 5)', async () => {
    const { registry } = createServiceMetrics('token-service');
    const text = await registry.metrics();
    expect(text).toContain('oauth_codes_refused_total{reason="replayed",service="token-service"} 0');
    expect(text).toContain('webhook_deliveries_total{outcome="failed",service="token-service"} 0');
    expect(text).toMatch(/^nodejs_heap_size_limit_bytes\{service="token-service"\} [1-9]\d+$/m);
    expect(text).toContain('db_pool_clients{state="waiting",service="token-service"} 0');
  });

  it('are scraped as job="partner-oauth" from the pods the manifests run (PodMonitor and plain scrape config)', () => {
    const [podMonitor] = yamlDocuments('prometheus/podmonitor.yaml');
    const [scrape] = yamlDocuments('prometheus/scrape-config.yaml');
    const pods = kustomize()
      .filter((d) => d.kind === 'Deployment')
      .map((d) => d.spec.template);
    expect(pods).toHaveLength(3);
    const [endpoint] = podMonitor.spec.podMetricsEndpoints;
    expect(endpoint.relabelings).toContainEqual({ targetLabel: 'job', replacement: 'partner-oauth' });
    const job = scrape.scrape_configs[0];
    expect(job.job_name).toBe('partner-oauth');
    const keep = Object.fromEntries(
      job.relabel_configs.filter((r: any) => r.action === 'keep').map((r: any) => [r.source_labels[0], new RegExp(`^(?:${r.regex})$`)]),
    );
    for (const pod of pods) {
      for (const [label, value] of Object.entries(podMonitor.spec.selector.matchLabels)) expect(pod.metadata.labels[label]).toBe(value);
      expect(pod.spec.containers[0].ports.map((p: any) => p.name)).toContain(endpoint.port);
      expect(keep.__meta_kubernetes_pod_label_app_kubernetes_io_part_of.test(pod.metadata.labels['app.kubernetes.io/part-of'])).toBe(true);
      expect(keep.__meta_kubernetes_pod_container_port_name.test(pod.spec.containers[0].ports[0].name)).toBe(true);
    }
  });

  it('are each explained in docs/operations.md', () => {
    for (const a of alerts) expect(operations, a.alert).toContain(a.alert);
  });
});
