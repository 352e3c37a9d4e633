/**
 * Metrics for monitoring, in the Prometheus text format (version 0.0.4):
 *
 *   GET /metrics → 200 text/plain; version=0.0.4   (every family of docs/METRICS.md)
 *
 * Like every route but the sync ones, served to programs on this machine only, unless
 * `api.remoteMetrics` lets other machines scrape it too (../remoteAccess.ts).
 */
import type { FastifyInstance } from 'fastify'
import { encodeFamilies, PROMETHEUS_CONTENT_TYPE, type MetricFamily } from '../../telemetry/prometheus.ts'

export function metricsRoutes (app: FastifyInstance, families: () => readonly MetricFamily[]): void {
  app.get('/metrics', async (_request, reply) => reply.header('cache-control', 'no-store').type(PROMETHEUS_CONTENT_TYPE).send(encodeFamilies(families())))
}
