/**
 * The store's one-row `state`: last issued seq, feed floor, clock mark and record counts. A write
 * transaction reads it once at its start and saves it once before COMMIT, so every figure moves
 * with the writes it describes.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'

export interface State {
  lastSeq: number
  feedFloor: number
  clockWall: number
  clockCounter: number
  triplesLive: number
  triplesDead: number
  notesLive: number
  notesDead: number
  episodes: number
  traces: number
}

export class StateTable {
  private readonly select: StatementSync
  private readonly update: StatementSync

  constructor (db: DatabaseSync) {
    this.select = db.prepare(`
      SELECT last_seq AS lastSeq, feed_floor AS feedFloor, clock_wall AS clockWall, clock_counter AS clockCounter,
        triples_live AS triplesLive, triples_dead AS triplesDead, notes_live AS notesLive, notes_dead AS notesDead,
        episodes, traces
      FROM state WHERE id = 1`)
    this.update = db.prepare(`
      UPDATE state SET last_seq = ?, feed_floor = ?, clock_wall = ?, clock_counter = ?, triples_live = ?,
        triples_dead = ?, notes_live = ?, notes_dead = ?, episodes = ?, traces = ?
      WHERE id = 1`)
  }

  read (): State {
    return { ...(this.select.get() as unknown as State) }
  }

  save (s: State): void {
    this.update.run(s.lastSeq, s.feedFloor, s.clockWall, s.clockCounter, s.triplesLive, s.triplesDead,
      s.notesLive, s.notesDead, s.episodes, s.traces)
  }
}
