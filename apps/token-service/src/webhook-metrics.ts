// Webhook metrics read at scrape time: the outbox backlog (delivery outcomes come from the worker's onOutcome, in app.ts).
import { type Clock, Gauge, type ServiceMetrics } from '@partner-oauth/service-kit';
import { type Db, outboxBacklog } from '@partner-oauth/storage';

/**
 * The outbox's backlog as gauges, read from Postgres at each scrape: webhook_outbox_pending and
 * webhook_outbox_oldest_seconds. Every instance reports the same shared outbox (alerts take the max). A failed read
 * leaves the last values: the outage already shows in dependency_up, and /metrics must still answer.
 */
export function registerWebhookBacklog(metrics: ServiceMetrics, db: Db, clock: Clock): void {
  let last = { pending: 0, oldestSeconds: 0 };
  // One query per scrape for both gauges: the registry collects them concurrently.
  let reading: Promise<typeof last> | undefined;
  const read = () => {
    reading ??= outboxBacklog(db, new Date(clock.now()))
      .catch(() => last)
      .then((backlog) => {
        last = backlog;
        reading = undefined;
        return backlog;
      });
    return reading;
  };
  new Gauge({
    name: 'webhook_outbox_pending',
    help: 'Removal notifications waiting in the outbox (not yet delivered nor given up).',
    registers: [metrics.registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: 'webhook_outbox_oldest_seconds',
    help: 'How long the oldest waiting removal notification has been in the outbox.',
    registers: [metrics.registry],
    async collect() {
      this.set((await read()).oldestSeconds);
    },
  });
}
