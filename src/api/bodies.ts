/**
 * How the API reads request bodies. Bodies are JSON: a non-empty body of another content type
 * (text/plain, which a web page may send without a CORS preflight, a form…) is refused with
 * 415, and JSON is parsed as fastify parses it, with the server's rules for `__proto__` and
 * `constructor` keys (server.ts).
 * An empty body is no body, whatever its content type: existing clients send
 * `content-type: application/json` on every call, a DELETE without a body included, and a route
 * that needs a body says so in its own validation ("body: must be object").
 */
import { errorCodes, type FastifyInstance } from 'fastify'

export function readBodiesAsJson (app: FastifyInstance): void {
  // the server's own rules for __proto__ and constructor keys (server.ts)
  const json = app.getDefaultJsonParser(app.initialConfig.onProtoPoisoning ?? 'error', app.initialConfig.onConstructorPoisoning ?? 'error')
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') { done(null, undefined); return }
    json(request, body as string, done)
  })
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if ((body as Buffer).length === 0) { done(null, undefined); return }
    done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(request.headers['content-type']), undefined)
  })
}
