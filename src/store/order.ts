/**
 * Text order shared by every store. SQLite compares TEXT as UTF-8 bytes, which is code point
 * order; JavaScript's `<` compares UTF-16 code units, which differs when a character above
 * U+FFFF meets one in U+E000..U+FFFF. Stores that sort in JavaScript use `compareText`, so
 * every store returns the same order.
 */

/** Compares two strings by code point (the order of their UTF-8 bytes). */
export function compareText (a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (part of a character ≥ U+10000) sort above every other code unit.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x < y ? -1 : 1
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0
}

/**
 * The smallest string greater than every string that starts with `prefix`, or undefined when
 * there is none (empty prefix, or only U+10FFFF characters). With it a prefix match is the range
 * `prefix <= s < upper`, which an index answers.
 */
export function prefixUpperBound (prefix: string): string | undefined {
  const cps = Array.from(prefix, c => c.codePointAt(0)!)
  while (cps.length > 0) {
    const last = cps.pop()!
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1
      return String.fromCodePoint(...cps, next)
    }
  }
  return undefined
}
