/**
 * Reading the fields of a decoded gossip message (gossipMessages.ts, reconMessages.ts): a map's
 * own properties only (never one inherited from a prototype), integers within a range, each
 * failure a PROTOCOL error that names the message type and the field and says what is allowed.
 * Pure: values in, values out.
 */
import { PROTOCOL } from '../../core/errors.ts'
import { wirePreview as preview } from './bloom.ts'

export type Fields = Record<string, unknown>

/** The decoded value as a map of fields, or PROTOCOL when it is anything else. */
export function asFields (input: unknown, t: string): Fields {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || ArrayBuffer.isView(input) || input instanceof Map) {
    throw PROTOCOL(`gossip ${t}: must be a map`)
  }
  return input as Fields
}

/** An own property (never one inherited from a prototype). */
export const get = (o: Fields, name: string): unknown => (Object.hasOwn(o, name) ? o[name] : undefined)

export function integer (o: Fields, t: string, name: string, min: number, max: number): number {
  const v = get(o, name)
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw PROTOCOL(`gossip ${t}.${name}: must be an integer from ${min} to ${max} (got ${preview(v)})`, { type: t, field: name })
  }
  return v
}
