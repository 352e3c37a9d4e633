/**
 * The dashboard's files (../dashboardAssets.ts says which and where from):
 *
 *   GET /             → the page (text/html), `cache-control: no-cache`: revalidated by its ETag
 *                       (304 when unchanged), so a browser always runs the node's own version
 *   GET /ui/<name>    → the bundled module, the style sheet or the icon, named by their content:
 *                       `cache-control: public, max-age=31536000, immutable`
 *
 * Each answer is the brotli or gzip form the build wrote when the browser accepts one
 * (`vary: accept-encoding`, an ETag per form). Like every route but the sync ones, these are
 * served to programs on this machine only (../remoteAccess.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { NOT_FOUND } from '../../core/errors.ts'
import type { Asset, DashboardAssets } from '../dashboardAssets.ts'

const pathParams = {
  type: 'object',
  required: ['*'],
  properties: { '*': { type: 'string', maxLength: 256 } }
} as const

/** The content codings an Accept-Encoding header accepts (those with a weight above 0). */
export function acceptedCodings (header: string | undefined): Set<string> {
  const out = new Set<string>()
  for (const part of (header ?? '').split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';')
    const weight = params.map(p => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(w => w !== undefined)
    if (coding !== '' && (weight === undefined || Number(weight) > 0)) out.add(coding)
  }
  return out
}

function send (request: FastifyRequest, reply: FastifyReply, a: Asset, headers: Readonly<Record<string, string>>): FastifyReply {
  const accepted = acceptedCodings(request.headers['accept-encoding'])
  const coding = (['br', 'gzip'] as const).find(c => a.encoded[c] !== undefined && (accepted.has(c) || accepted.has('*')))
  const form = coding === undefined ? { body: a.body, etag: a.etag } : a.encoded[coding]!
  void reply.headers(headers).header('etag', form.etag).header('vary', 'accept-encoding').type(a.type)
    .header('cache-control', a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
  if (request.headers['if-none-match'] === form.etag) return reply.code(304).send()
  if (coding !== undefined) void reply.header('content-encoding', coding)
  return reply.send(form.body)
}

export function dashboardRoutes (app: FastifyInstance, assets: DashboardAssets): void {
  app.get('/', async (request, reply) => {
    if (assets.index === undefined) throw NOT_FOUND('dashboard page', `${assets.dir}/index.html (written by npm run build)`)
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
