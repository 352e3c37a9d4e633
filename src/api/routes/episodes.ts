/**
 * Episodes: records of past sessions, merged by union (a merge never removes one).
 *
 *   POST /api/v1/episodes   {id?, data}  → 201 episode (the id is generated when absent;
 *                                          posting an existing id replaces its data)
 *   GET  /api/v1/episodes/<id>           → episode | 404
 *   GET  /api/v1/episodes?prefix=&limit=&offset=  → {episodes, total, limit, offset}, newest first
 *
 * Like note keys, the id is the rest of the path, %-decoded, so it may contain '/' and ':'.
 */
import type { FastifyInstance } from 'fastify'
import { NOT_FOUND } from '../../core/errors.ts'
import { validateEpisodeId } from '../../core/records.ts'
import { recordViews } from '../provenance.ts'
import { createEpisodeBody, listByPrefixQuery, wildcardParams } from '../schemas.ts'
import type { ApiDeps } from '../types.ts'

export function episodeRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { engine } = deps

  app.post<{ Body: { id?: string, data: Record<string, unknown> } }>('/api/v1/episodes',
    { schema: { body: createEpisodeBody } },
    async (request, reply) => reply.code(201).send(recordViews(engine).episode(engine.putEpisode(request.body))))

  app.get<{ Params: { '*': string } }>('/api/v1/episodes/*', { schema: { params: wildcardParams } }, async (request) => {
    const id = validateEpisodeId(request.params['*'], 'id')
    const episode = engine.store.getEpisode(id)
    if (episode === undefined) throw NOT_FOUND('episode', id)
    return recordViews(engine).episode(episode)
  })

  app.get<{ Querystring: { prefix?: string, limit: number, offset: number } }>('/api/v1/episodes',
    { schema: { querystring: listByPrefixQuery } },
    async (request) => {
      const { prefix, limit, offset } = request.query
      const { episodes, total } = engine.store.listEpisodes({ prefix, limit, offset })
      return { episodes: episodes.map(recordViews(engine).episode), total, limit, offset }
    })
}
