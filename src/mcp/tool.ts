/**
 * What an MCP tool of engram is: its listing (name, title, description, JSON schemas,
 * annotations) and its handler, plus small builders for the JSON schemas.
 *
 * Schemas are JSON Schema draft-07, written out so that what clients see is exactly what is
 * listed here. Input objects accept extra fields (they are dropped before a tool runs:
 * arguments.ts); output objects list every field they may carry.
 */
import type { Compat } from './compat.ts'
import type { GraphStore } from './GraphStore.ts'
import type { RestApi } from '../client/RestApi.ts'

export type JsonSchema = { readonly [key: string]: unknown }

export interface ToolAnnotations {
  readonly readOnlyHint: boolean
  readonly destructiveHint: boolean
  readonly idempotentHint: boolean
  readonly openWorldHint: boolean
}

export interface ToolContext {
  readonly graph: GraphStore
  readonly api: RestApi
  /** The memory server release whose behaviour the memory tools follow. */
  readonly compat: Compat
}

export interface ToolOutput {
  /** The result as structured content (it matches the output schema). */
  readonly structured: Record<string, unknown>
  /** The text content; default: the structured content as indented JSON. */
  readonly text?: string
  /** When and on which machine each returned record was written; sent in `_meta`. */
  readonly provenance?: unknown
}

export interface Tool {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly inputSchema: JsonSchema
  readonly outputSchema?: JsonSchema
  readonly annotations: ToolAnnotations
  /** Runs with arguments that passed the input schema. */
  run (args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>
}

export interface ToolSpec<A> extends Omit<Tool, 'run'> {
  run (args: A, ctx: ToolContext): Promise<ToolOutput>
}

/** A tool whose handler sees its arguments typed (the server validates them against the schema first). */
export function defineTool<A> (spec: ToolSpec<A>): Tool {
  return { ...spec, run: (args, ctx) => spec.run(args as A, ctx) }
}

export const DRAFT_07 = 'http://json-schema.org/draft-07/schema#'

export const str = (description?: string): JsonSchema => (description === undefined ? { type: 'string' } : { type: 'string', description })

export const arr = (items: JsonSchema, description?: string): JsonSchema =>
  (description === undefined ? { type: 'array', items } : { type: 'array', items, description })

/** An object whose listed properties are all required (or those of `required`); closed when `closed`. */
export function obj (properties: Record<string, JsonSchema>, opts: { required?: readonly string[], closed?: boolean } = {}): JsonSchema {
  const required = opts.required ?? Object.keys(properties)
  const base: Record<string, unknown> = { type: 'object', properties }
  if (required.length > 0) base.required = [...required]
  if (opts.closed === true) base.additionalProperties = false
  return base
}

/** The top level of a tool's schema. */
export const root = (schema: JsonSchema): JsonSchema => ({ ...schema, $schema: DRAFT_07 })

export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
