/**
 * Equality of triple objects as pattern queries use it: same kind, same value (JSON compared
 * by canonical text), same language tag.
 */
import { canonicalJson } from '../core/canonical.ts'
import type { Term } from '../core/model.ts'

export function termEquals (a: Term, b: Term): boolean {
  if (a.kind !== b.kind) return false
  switch (a.kind) {
    case 'json': return canonicalJson(a.value) === canonicalJson((b as typeof a).value)
    case 'lang': return a.value === (b as typeof a).value && a.lang === (b as typeof a).lang
    default: return a.value === b.value
  }
}
