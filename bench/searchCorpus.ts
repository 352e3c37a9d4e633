/**
 * A synthetic memory for the search benchmark: triples shaped like an agent's (subjects such as
 * `user:u12` or `kg:Entity7`, camel-case and namespaced predicates, objects that are short
 * sentences), with words drawn from a 50,000-word vocabulary by a Zipf law (s = 1.07, as natural
 * text: a few words are in most records, most words in few). Deterministic for a seed.
 */
import { mulberry32 } from '../src/util/random.ts'

const VOCABULARY = 50_000
const ZIPF_S = 1.07
const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'te', 'su', 'no', 'vi', 'da', 'pe', 'zu', 'ho', 'ri', 'ga', 'ne', 'tu', 'sa', 'bo', 'li', 'ce']
const PREDICATES = ['kg:observation', 'prefersEditor', 'worksOn', 'livesIn', 'hasSkill', 'note:text', 'mentions', 'decidedThat', 'learned_from', 'summary']
const NAMESPACES = ['user', 'project', 'kg', 'team']

/** Word number `rank` (0 is the most frequent): distinct, two to four syllables. */
export function word (rank: number): string {
  let n = rank
  let w = ''
  do {
    w += SYLLABLES[n % SYLLABLES.length]
    n = Math.floor(n / SYLLABLES.length)
  } while (n > 0)
  return w.length < 4 ? w + 'x' : w
}

export interface Corpus {
  /** The input of triple i (as Engine.addTriples takes it). */
  triple (i: number): { subject: string, predicate: string, object: string }
  /** A query of two words that occur together in one of the first `rows` triples. */
  twoWords (rows: number): string
}

export function corpus (seed = 7): Corpus {
  const cumulative = new Float64Array(VOCABULARY)
  let total = 0
  for (let r = 0; r < VOCABULARY; r++) {
    total += 1 / Math.pow(r + 1, ZIPF_S)
    cumulative[r] = total
  }
  const draw = (rnd: () => number): number => {
    const x = rnd() * total
    let lo = 0
    let hi = VOCABULARY - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const sentence = (i: number): string[] => {
    const rnd = mulberry32(seed * 1_000_003 + i)
    const n = 4 + Math.floor(rnd() * 9)
    return Array.from({ length: n }, () => word(draw(rnd)))
  }
  const queries = mulberry32(seed + 1)
  return {
    triple (i) {
      const k = Math.floor(i / 6)
      return {
        subject: `${NAMESPACES[k % NAMESPACES.length]}:${k % 3 === 0 ? 'Entity' : 'u'}${k}`,
        predicate: PREDICATES[i % PREDICATES.length]!,
        object: sentence(i).join(' ')
      }
    },
    twoWords (rows) {
      const words = sentence(Math.floor(queries() * rows))
      const a = Math.floor(queries() * words.length)
      let b = Math.floor(queries() * (words.length - 1))
      if (b >= a) b++
      return `${words[a]} ${words[b]}`
    }
  }
}
