/**
 * Prometheus metrics (`GET /metrics`): requests by route and status, export page latency, items
 * served and events ingested. Labels carry no account names, tokens or ids.
 * @module
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  registry: Registry
  requests: Counter<'route' | 'status'>
  exportSeconds: Histogram<'stream'>
  itemsServed: Counter<'stream'>
  eventsIngested: Counter<'result'>
  /** Event-loop stalls over `--stall-warn-ms` (src/observability/loop-stalls.ts). */
  loopStalls: Counter
}

/** Creates a registry with process metrics and the server's own. */
export function createMetrics(): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    requests: new Counter({
      name: 'chat_export_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    exportSeconds: new Histogram({
      name: 'chat_export_export_page_seconds',
      help: 'Time to build and send one export page',
      labelNames: ['stream'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    itemsServed: new Counter({
      name: 'chat_export_items_served_total',
      help: 'Export items served, by stream',
      labelNames: ['stream'],
      registers: [registry],
    }),
    eventsIngested: new Counter({
      name: 'chat_export_events_ingested_total',
      help: 'Ingest events by result (accepted, duplicate)',
      labelNames: ['result'],
      registers: [registry],
    }),
    loopStalls: new Counter({
      name: 'chat_export_event_loop_stalls_total',
      help: 'Times the event loop was held for at least --stall-warn-ms (each is logged with the requests in flight)',
      registers: [registry],
    }),
  }
}
