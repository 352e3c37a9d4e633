/**
 * When records arrived at this node, by this node's own clock: the index that lets the legacy
 * delta shape (`{since, namespaces, nodeId}`) be answered by local arrival rather than by the
 * records' stamps. A record written elsewhere long ago and relayed here after a client's last
 * pull has an old stamp but a recent arrival, so a client asking "what changed since T" must get
 * it: everything that arrived at or after T.
 *
 * The index is a list of marks, each "at local time `at`, the feed's last seq was `seq`": every
 * record with a seq up to `seq` had arrived by `at`, and anything arriving later gets a larger
 * seq. `seqBefore(t)` answers the seq of the latest mark taken before t (0 when there is
 * none): the feed after it holds every record that arrived at or after t — and a few that
 * arrived a little before, never fewer. Every simplification of the index (a mark not taken, a
 * mark dropped, marks lost in a crash) only moves answers earlier: more records resent, none
 * missed.
 *
 * Marks are taken when the feed grows, about one per `resolutionMs` (the newest one moving up to
 * the last commit, so an answer never starts before what was there at the last write); the list is thinned from
 * its old end when it passes `maxMarks` (old marks get coarser), and saved in the store's local
 * metadata (never replicated) at most every `saveEveryMs`, so a restart keeps it. The marks read
 * back at a start are saved already: the first save comes `saveEveryMs` after it, not at the
 * first commit — after a restart that is usually the page a peer sends to catch this node up,
 * and a save there (a commit that waits for the disk, in the commit's change event) delayed the
 * records reaching everything else that listens.
 */

export interface ArrivalMark {
  /** Local wall time, ms. */
  readonly at: number
  /** The last seq of the feed at that time. */
  readonly seq: number
}

export interface ArrivalIndexOptions {
  /** The saved marks (JSON), or undefined. */
  readonly load: () => string | undefined
  readonly save: (text: string) => void
  readonly now: () => number
  /** Least time between two marks; default 1 s. */
  readonly resolutionMs?: number
  /** Most marks kept; default 4,096. */
  readonly maxMarks?: number
  /** Least time between two saves; default 30 s. */
  readonly saveEveryMs?: number
}

export class ArrivalIndex {
  private readonly opts: ArrivalIndexOptions
  private marks: ArrivalMark[]
  /** When the marks were last saved: at construction, those read back are. */
  private savedAt: number
  private dirty = false

  constructor (opts: ArrivalIndexOptions) {
    this.opts = opts
    this.marks = parseMarks(opts.load())
    this.savedAt = opts.now()
  }

  /** The feed's last seq is now `lastSeq` (after a commit, or at start). */
  observe (lastSeq: number): void {
    const at = this.opts.now()
    const last = this.marks[this.marks.length - 1]
    const prev = this.marks[this.marks.length - 2]
    if (last !== undefined && (lastSeq <= last.seq || at < last.at)) return // nothing new, or the clock stepped back
    // The newest mark moves forward while it is within the resolution of the one before it (a
    // query between them starts at that one: earlier, never later); past it, a new mark is added.
    if (prev !== undefined && at - prev.at < (this.opts.resolutionMs ?? 1000)) this.marks[this.marks.length - 1] = { at, seq: lastSeq }
    else this.marks.push({ at, seq: lastSeq })
    if (this.marks.length > (this.opts.maxMarks ?? 4096)) this.thin()
    this.dirty = true
    if (at - this.savedAt >= (this.opts.saveEveryMs ?? 30_000)) this.flush()
  }

  /** A seq after which the feed holds every record that arrived at or after `t`. */
  seqBefore (t: number): number {
    let lo = 0
    let hi = this.marks.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const m = this.marks[mid]!
      if (m.at < t) { found = m.seq; lo = mid + 1 } else hi = mid - 1
    }
    return found
  }

  /** Saves the marks if they changed since the last save. */
  flush (): void {
    if (!this.dirty) return
    this.opts.save(JSON.stringify(this.marks.map(m => [m.at, m.seq])))
    this.savedAt = this.opts.now()
    this.dirty = false
  }

  /** The marks, oldest first (tests, status). */
  view (): readonly ArrivalMark[] { return this.marks }

  /** Drops every other mark of the older half: old answers get coarser (earlier), never later. */
  private thin (): void {
    const half = Math.floor(this.marks.length / 2)
    const older = this.marks.slice(0, half).filter((_, i) => i % 2 === 0)
    this.marks = [...older, ...this.marks.slice(half)]
  }
}

/** Saved marks; anything unreadable counts as none (answers then start from the feed's beginning). */
function parseMarks (text: string | undefined): ArrivalMark[] {
  if (text === undefined) return []
  try {
    const v = JSON.parse(text) as unknown
    if (!Array.isArray(v)) return []
    const out: ArrivalMark[] = []
    for (const e of v) {
      if (!Array.isArray(e) || !Number.isSafeInteger(e[0]) || !Number.isSafeInteger(e[1])) return []
      const m = { at: e[0] as number, seq: e[1] as number }
      const prev = out[out.length - 1]
      if (prev !== undefined && (m.at < prev.at || m.seq < prev.seq)) return []
      out.push(m)
    }
    return out
  } catch {
    return []
  }
}
