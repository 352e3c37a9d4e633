/**
 * The dashboard's files (../dashboardAssets.ts says which and where from):
 *
 *   GET /             → the page (text/html)
 *   GET /ui/<path>    → a module, the style sheet, an icon, or a library under /ui/vendor/
 *
 * Answers carry an ETag and `cache-control: no-cache`, so a browser revalidates each file (304
 * when unchanged) and always runs the node's own version of the page. Like every route but the
 * sync ones, these are served to programs on this machine only (../remoteAccess.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NOT_FOUND } from '../../core/errors.ts'
import type { Asset, DashboardAssets } from '../dashboardAssets.ts'

const pathParams = {
  type: 'object',
  required: ['*'],
  properties: { '*': { type: 'string', maxLength: 256 } }
} as const

function send (request: FastifyRequest, reply: FastifyReply, a: Asset, headers: Readonly<Record<string, string>>): FastifyReply {
  void reply.headers(headers).header('etag', a.etag).header('cache-control', 'no-cache').type(a.type)
  if (request.headers['if-none-match'] === a.etag) return reply.code(304).send()
  return reply.send(a.body)
}

export function dashboardRoutes (app: FastifyInstance, assets: DashboardAssets): void {
  app.get('/', async (request, reply) => {
    if (assets.index === undefined) throw NOT_FOUND('dashboard page', `${assets.dir}/index.html`)
    return send(request, reply, assets.index, assets.headers)
  })

  // A page route for the API's guard: a module or style sheet the page loads needs no token
  // (a <script> cannot send one), like the page itself.
  app.get<{ Params: { '*': string } }>('/ui/*', { schema: { params: pathParams }, config: { page: true } }, async (request, reply) => {
    const a = assets.files.get(request.params['*'])
    if (a === undefined) throw NOT_FOUND('dashboard file', request.params['*'])
    return send(request, reply, a, assets.headers)
  })
}
