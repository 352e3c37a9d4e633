/**
 * The REST API of a node. `createApiServer` builds the fastify instance with every route,
 * schema validation and the error handler; it does not listen (the caller picks the address
 * and calls `listen`), and more routes may be added to it before it starts.
 *
 * Conventions (docs/API.md): JSON in and out; errors are `{error, code, details}` with the
 * status of errors.ts; writes answer only after the engine's transaction committed (the engine
 * is synchronous, so a handler's return is after the commit).
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { readBodiesAsJson } from './bodies.ts'
import { frameworkErrorHandler, makeErrorHandler, notFoundHandler } from './errors.ts'
import { dumpRoutes } from './routes/dump.ts'
import { episodeRoutes } from './routes/episodes.ts'
import { healthRoutes } from './routes/health.ts'
import { integrationRoutes } from './routes/integrations.ts'
import { noteRoutes } from './routes/notes.ts'
import { p2pRoutes } from './routes/p2p.ts'
import { queryRoutes } from './routes/query.ts'
import { provenanceRoutes } from './routes/provenance.ts'
import { searchRoutes } from './routes/search.ts'
import { statusRoutes } from './routes/status.ts'
import { traceRoutes } from './routes/traces.ts'
import { tripleRoutes } from './routes/triples.ts'
import { conflictRoutes } from './routes/conflicts.ts'
import { hookRoutes } from './routes/hooks.ts'
import { syncRoutes } from './routes/sync.ts'
import { METRICS_ROUTE, remoteAccess, remoteAccessHook, REMOTE_ROUTES } from './remoteAccess.ts'
import { guardHook } from './guard.ts'
import { apiLimits, guardConnections } from './limits.ts'
import { createRateLimiter } from './rateLimit.ts'
import type { ApiDeps } from './types.ts'
import { coerceIntegerQuery } from './validation.ts'
import { createTelemetry } from '../telemetry/Telemetry.ts'
import { StreamCounters } from './sse.ts'
import { statusStreamRoutes } from './routes/statusStream.ts'
import { metricsRoutes } from './routes/metrics.ts'
import { nodeMetrics } from './nodeMetrics.ts'
import { dashboardRoutes } from './routes/dashboard.ts'
import { loadDashboardAssets } from './dashboardAssets.ts'
import { lazyValidators } from './lazyValidators.ts'

/** Longest path parameter, characters as sent (a 1 KiB note key, fully %-encoded, fits). */
const MAX_PARAM_CHARS = 4096

export async function createApiServer (deps: ApiDeps): Promise<FastifyInstance> {
  // Time limits, connection caps and rate limits on what clients send (limits.ts, rateLimit.ts);
  // over TLS, a client that does not finish its TLS handshake is cut off by the header limit too.
  const limits = deps.limits ?? apiLimits()
  // With TLS (deps.https) the API serves HTTPS; the type is the same fastify instance either way.
  const app = Fastify({
    ...(deps.https !== undefined ? { https: { handshakeTimeout: limits.headersTimeoutMs, ...deps.https } } : {}),
    logger: false,
    bodyLimit: deps.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_CHARS },
    // A "__proto__" key is kept as the plain own key JSON.parse makes of it, so that validation
    // refuses it naming the field (core/validate.ts), instead of a bare "not valid JSON".
    onProtoPoisoning: 'ignore',
    frameworkErrors: frameworkErrorHandler,
    // each route's request schemas compiled when a request first needs them (lazyValidators.ts)
    schemaController: { compilersFactory: { buildValidator: lazyValidators() } },
    ajv: {
      // No coercion (a number is not a string), unknown fields are errors rather than dropped,
      // and errors carry the offending data so messages can describe it. The routes' schemas are
      // this code's own, not checked against Ajv's meta-schema at every start: compiling that
      // meta-schema was most of a daemon's first request (lazyValidators.ts).
      customOptions: { coerceTypes: false, removeAdditional: false, verbose: true, allErrors: false, validateSchema: false }
    }
  }) as unknown as FastifyInstance
  // Bodies are JSON only (415 for another content type); an empty body is no body (bodies.ts).
  readBodiesAsJson(app)
  app.setErrorHandler(makeErrorHandler({ bodyLimitBytes: deps.bodyLimitBytes }, deps.onInternalError))
  app.setNotFoundHandler(notFoundHandler)
  app.addHook('preValidation', coerceIntegerQuery)
  guardConnections(app.server, limits)
  const rates = createRateLimiter(limits, { onRefused: deps.onRateLimited, ...(deps.now !== undefined ? { now: deps.now } : {}) })
  app.addHook('onRequest', rates.onRequest)
  app.addHook('onResponse', rates.onResponse)
  // Other machines may reach only the routes peers need, and the metrics when allowed
  // (remoteAccess.ts); web pages reach nothing, and with api.requireToken local programs show
  // the token (guard.ts).
  app.addHook('onRequest', deps.remoteMetrics === true ? remoteAccess([...REMOTE_ROUTES, METRICS_ROUTE]) : remoteAccessHook)
  app.addHook('onRequest', guardHook(deps.access ?? { allowedHosts: [] }, deps.https !== undefined ? 'https' : 'http'))

  healthRoutes(app, deps)
  statusRoutes(app, deps)
  tripleRoutes(app, deps)
  queryRoutes(app, deps)
  searchRoutes(app, deps)
  noteRoutes(app, deps)
  episodeRoutes(app, deps)
  traceRoutes(app, deps)
  dumpRoutes(app, deps)
  p2pRoutes(app, deps)
  // The live status stream, the dashboard and the metrics (docs/UI.md, docs/METRICS.md).
  const telemetry = deps.telemetry ?? createTelemetry(deps.engine)
  if (deps.telemetry === undefined) app.addHook('onClose', async () => { telemetry.close() })
  const streams = new StreamCounters()
  integrationRoutes(app, deps, {}, streams)
  statusStreamRoutes(app, deps, telemetry, streams, deps.statusStream)
  metricsRoutes(app, () => nodeMetrics({ deps, telemetry, streams }))
  dashboardRoutes(app, deps.dashboard ?? loadDashboardAssets())
  syncRoutes(app, deps)
  conflictRoutes(app, deps)
  hookRoutes(app, deps)
  provenanceRoutes(app, deps)
  return app
}
