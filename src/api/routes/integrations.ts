/**
 * Routes for integrations that stay connected to the node or read it in bulk, such as the MCP
 * server (`engram mcp`): the live change stream (events.ts) and batched queries (batchQuery.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { StreamCounters } from '../sse.ts'
import type { ApiDeps } from '../types.ts'
import { batchQueryRoutes } from './batchQuery.ts'
import { eventRoutes, type EventRouteOptions } from './events.ts'

export function integrationRoutes (app: FastifyInstance, deps: ApiDeps, events: EventRouteOptions = {}, streams?: StreamCounters): void {
  eventRoutes(app, deps, events, streams)
  batchQueryRoutes(app, deps)
}
