// infra/prometheus/alerts.yaml: well-formed rules over metrics the services really export, each explained in docs/operations.md.
import { readFileSync } from 'node:fs';
import { createServiceMetrics } from '@partner-oauth/service-kit';
import { describe, expect, it } from 'vitest';
import { INFRA, yamlDocuments } from './support.js';

const [rules] = yamlDocuments('prometheus/alerts.yaml');
const alerts = rules.groups.flatMap((g: any) => g.rules);
const operations = readFileSync(`${INFRA}../docs/operations.md`, 'utf8');

/** Every metric name the services expose: the domain registry, plus fastify-metrics' histogram and Prometheus' own `up`. */
async function exported(): Promise<Set<string>> {
  const { registry } = createServiceMetrics('any');
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  return new Set([...names, 'http_request_duration_seconds', 'up']);
}

describe('alert rules', () => {
  it('each has a name, an expression, a severity and a summary', () => {
    expect(alerts.length).toBeGreaterThan(5);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^PartnerOAuth[A-Za-z]+$/);
      expect(typeof a.expr).toBe('string');
      expect(['page', 'warn']).toContain(a.labels.severity);
      expect(a.annotations.summary).toBeTruthy();
    }
  });

  it('use only metrics the services export', async () => {
    const known = await exported();
    for (const a of alerts) {
      const used = [...(a.expr as string).matchAll(/\b([a-z_]+(?:_total|_seconds(?:_bucket|_count)?|_up|^up))\b|\bup\{/g)]
        .map(([m]) => m.replace(/\{$/, '').replace(/_(bucket|count|sum)$/, ''))
        .filter((m) => m !== '');
      expect(used.length, a.alert).toBeGreaterThan(0);
      for (const m of used) expect(known, `${a.alert} uses ${m}`).toContain(m);
    }
  });

  it('are each explained in docs/operations.md', () => {
    for (const a of alerts) expect(operations, a.alert).toContain(a.alert);
  });
});
