// Counts removal notification outcomes from the worker's own structured log lines, so the worker needs no metrics API.
import type { ServiceMetrics } from '@partner-oauth/service-kit';
import type { WebhookLogger } from '@partner-oauth/webhooks';

const OUTCOMES: Record<string, string> = {
  'webhook.delivered': 'delivered',
  'webhook.retry': 'retry',
  'webhook.failed': 'failed',
};

/** A logger that passes every line on to `log` and counts the delivery outcomes among them. */
export function countingWebhookLogger(log: WebhookLogger, metrics: ServiceMetrics): WebhookLogger {
  const count = (obj: object) => {
    const outcome = OUTCOMES[(obj as { event?: string }).event ?? ''];
    if (outcome) metrics.webhookDeliveries.inc({ outcome });
  };
  return {
    info: (obj, msg) => {
      count(obj);
      log.info(obj, msg);
    },
    warn: (obj, msg) => {
      count(obj);
      log.warn(obj, msg);
    },
    error: (obj, msg) => {
      count(obj);
      log.error(obj, msg);
    },
  };
}
