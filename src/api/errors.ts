/**
 * Every error the REST API answers with has one shape, `{error, code, details}`:
 * `error` a sentence for people, `code` a stable ErrorCode for programs, `details` an object
 * (empty when there is nothing to add). The HTTP status follows from the code:
 *
 * | code                                   | status |
 * |----------------------------------------|--------|
 * | INVALID_INPUT, ID_MISMATCH, PROTOCOL   | 400    |
 * | UNAUTHORIZED                           | 401    |
 * | FORBIDDEN                              | 403    |
 * | NOT_FOUND                              | 404    |
 * | CONFLICT, HLC_DRIFT                    | 409    |
 * | LIMIT_EXCEEDED                         | 413    |
 * | RATE_LIMITED                           | 429    |
 * | STORE_UNAVAILABLE, UNAVAILABLE         | 503    |
 * | TIMEOUT                                | 504    |
 * | anything else                          | 500    |
 *
 * Errors raised by the HTTP layer itself (schema validation, malformed JSON, a body over the
 * size limit, an unsupported content type) are translated into the same shape. An error that
 * is not an EngramError and not an HTTP-layer error is a bug: the client gets 500 INTERNAL with
 * a generic message and no stack; the full error goes to the optional `onInternalError` hook.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isEngramError, type ErrorCode } from '../core/errors.ts'
import { formatValidationError, type AjvErrorLike } from './validation.ts'

export interface ErrorBody {
  readonly error: string
  readonly code: ErrorCode
  readonly details: Record<string, unknown>
}

export interface HttpError {
  readonly status: number
  readonly body: ErrorBody
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  ID_MISMATCH: 400,
  PROTOCOL: 400,
  CONFIG_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  HLC_DRIFT: 409,
  LIMIT_EXCEEDED: 413,
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
  UNAVAILABLE: 503,
  TIMEOUT: 504
}

export const statusForCode = (code: ErrorCode): number => STATUS_BY_CODE[code] ?? 500

/** An error body built here (for answers that are not thrown, such as "P2P not enabled"). */
export function errorBody (code: ErrorCode, error: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error, code, details }
}

export interface ErrorContext {
  /** The body size limit, reported when a body is over it. */
  readonly bodyLimitBytes?: number
}

/** Maps any thrown value to a status and an error body. Pure: no logging, no reply. */
export function toHttpError (err: unknown, ctx: ErrorContext = {}): HttpError {
  if (isEngramError(err)) {
    return { status: statusForCode(err.code), body: errorBody(err.code, err.message, err.details ?? {}) }
  }
  const fe = err as Partial<FastifyError> & { validation?: AjvErrorLike[], validationContext?: string }
  if (typeof fe === 'object' && fe !== null && Array.isArray(fe.validation) && fe.validation.length > 0) {
    const v = formatValidationError(fe.validation[0]!, fe.validationContext ?? 'body')
    return { status: 400, body: errorBody('INVALID_INPUT', v.message, v.details) }
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = ctx.bodyLimitBytes
      return {
        status: 413,
        body: limit === undefined
          ? errorBody('LIMIT_EXCEEDED', 'request body is over the size limit', { what: 'request body' })
          : errorBody('LIMIT_EXCEEDED', `request body is over the limit of ${limit} bytes; split it into smaller requests`, { what: 'request body', limit })
      }
    }
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, body: errorBody('LIMIT_EXCEEDED', 'a path parameter is too long', { what: 'path parameter' }) }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: errorBody('INVALID_INPUT', 'unsupported content type: send the body as JSON with "content-type: application/json"', { field: 'content-type' })
      }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: errorBody('INVALID_INPUT', 'body: is not valid JSON', { field: 'body' }) }
    case 'FST_ERR_BAD_URL':
      return { status: 400, body: errorBody('INVALID_INPUT', 'the URL is malformed (check its %-encoding)', { field: 'url' }) }
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500
  if (status >= 400 && status < 500) {
    // Another client error from the HTTP layer (a body that is not JSON, a bad content length, …).
    const message = err instanceof SyntaxError ? `body: is not valid JSON (${err.message})` : String(fe.message ?? 'bad request')
    const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 413 ? 'LIMIT_EXCEEDED' : 'INVALID_INPUT'
    return { status, body: errorBody(code, message, fe.code !== undefined ? { cause: fe.code } : {}) }
  }
  return { status: 500, body: errorBody('INTERNAL', 'internal error; see the node log', {}) }
}

export type InternalErrorHook = (err: unknown, context: { method: string, url: string }) => void

/** The fastify error handler: one reply shape for every error. */
export function makeErrorHandler (ctx: ErrorContext, onInternalError?: InternalErrorHook) {
  return function handleError (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { status, body } = toHttpError(err, ctx)
    if (status === 500 && onInternalError !== undefined) {
      try { onInternalError(err, { method: request.method, url: request.url }) } catch { /* a failing hook must not hide the answer */ }
    }
    return reply.code(status).type('application/json; charset=utf-8').send(body)
  }
}

/** Unknown routes (and known paths with a method they do not have). */
export function notFoundHandler (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0] ?? request.url
  return reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${path}`, { method: request.method, path }))
}

/** Errors fastify raises before a route runs (a malformed URL, a path parameter that is too long). */
export function frameworkErrorHandler (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toHttpError(err)
  void reply.code(status).send(body)
}
