/**
 * The memory file of the knowledge-graph memory server: JSON Lines, one entity or relation per
 * line, entities first.
 *
 *   {"type":"entity","name":"Alice","entityType":"person","observations":["likes tea"]}
 *   {"type":"relation","from":"Alice","to":"Acme","relationType":"works_at"}
 *
 * Parsing keeps going past a bad line and reports it with its number, so one damaged line does
 * not stop a migration.
 */
import type { Entity, KnowledgeGraph, Relation } from './mapping.ts'

export type MemoryItem = { readonly kind: 'entity', readonly entity: Entity } | { readonly kind: 'relation', readonly relation: Relation }

export interface ParsedLine { readonly line: number, readonly item: MemoryItem }
export interface SkippedLine { readonly line: number, readonly reason: string }

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(x => typeof x === 'string')

/** One line's item, or the reason it is not one. */
export function parseMemoryLine (text: string): MemoryItem | string {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return 'not valid JSON'
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object'
  const o = v as Record<string, unknown>
  if (o.type === 'entity') {
    if (typeof o.name !== 'string') return 'entity without a string "name"'
    if (typeof o.entityType !== 'string') return 'entity without a string "entityType"'
    if (!isStringArray(o.observations)) return 'entity whose "observations" is not an array of strings'
    return { kind: 'entity', entity: { name: o.name, entityType: o.entityType, observations: o.observations } }
  }
  if (o.type === 'relation') {
    if (typeof o.from !== 'string' || typeof o.to !== 'string' || typeof o.relationType !== 'string') {
      return 'relation without string "from", "to" and "relationType"'
    }
    return { kind: 'relation', relation: { from: o.from, to: o.to, relationType: o.relationType } }
  }
  return `unknown "type" ${JSON.stringify(o.type)} (expected "entity" or "relation")`
}

/** Every item of a memory file, with the lines that were skipped and why. Blank lines are ignored. */
export function parseMemoryFile (text: string): { items: ParsedLine[], skipped: SkippedLine[] } {
  const items: ParsedLine[] = []
  const skipped: SkippedLine[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '')
    if (raw.trim() === '') continue
    const r = parseMemoryLine(raw)
    if (typeof r === 'string') skipped.push({ line: i + 1, reason: r })
    else items.push({ line: i + 1, item: r })
  }
  return { items, skipped }
}

export function entityLine (e: Entity): string {
  return JSON.stringify({ type: 'entity', name: e.name, entityType: e.entityType, observations: e.observations })
}

export function relationLine (r: Relation): string {
  return JSON.stringify({ type: 'relation', from: r.from, to: r.to, relationType: r.relationType })
}

/** The memory file of a graph: entities, then relations, one per line, each line ending with a newline. */
export function formatMemoryFile (g: KnowledgeGraph): string {
  return [...g.entities.map(entityLine), ...g.relations.map(relationLine)].map(l => l + '\n').join('')
}
