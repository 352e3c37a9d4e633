/**
 * The routes' request schemas compiled on first use instead of at start. Fastify compiles every
 * route's schemas with Ajv when the server gets ready — some 0.1–0.2 s of a daemon's start, half
 * of it Ajv's own set-up (the draft-07 meta-schema, checking each schema against it) — although a
 * daemon answers few of its routes soon after it starts, or ever. Here each schema becomes a
 * function that builds the compiler (Fastify's own, @fastify/ajv-compiler, with the same
 * options) and compiles the schema the first time a request needs it, then validates as the
 * compiled one does: same result, same `errors` (read by Fastify after a failed validation).
 * The first request of a route pays its compile (a few ms); a schema Ajv refuses fails that
 * request instead of the start (the API's tests send every route a request). The schemas are not
 * checked against Ajv's draft-07 meta-schema (server.ts: `validateSchema: false`): they are this
 * code's own, and compiling the meta-schema for that check took some 40 ms of the first request
 * a restarted daemon answers — on a 2-core machine, in the middle of its first catch-up.
 */
import { AjvCompiler } from '@fastify/ajv-compiler'

type BuildCompiler = ReturnType<typeof AjvCompiler>
type Compile = ReturnType<BuildCompiler>
type Route = Parameters<Compile>[0]
type Validate = ReturnType<Compile>

/** A `schemaController.compilersFactory.buildValidator` for Fastify that compiles each schema on first use. */
export function lazyValidators (): BuildCompiler {
  const pool = AjvCompiler()
  return ((externalSchemas: Parameters<BuildCompiler>[0], options: Parameters<BuildCompiler>[1]) => {
    let compile: Compile | undefined
    return (route: Route) => {
      let compiled: Validate | undefined
      const validate = function (this: unknown, data: unknown): boolean {
        compile ??= pool(externalSchemas, options)
        compiled ??= compile(route)
        const ok = compiled.call(this, data) as boolean
        ;(validate as { errors?: unknown }).errors = compiled.errors
        return ok
      }
      return validate as unknown as Validate
    }
  }) as BuildCompiler
}
