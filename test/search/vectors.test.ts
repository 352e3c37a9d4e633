/**
 * The vector stores against one suite (MemoryVectorStore, SqliteVectorStore on a real file):
 * nearest by cosine, kinds, replacing and removing vectors, the cursor and model, a write of
 * vectors of another length refused whole; then what only the file shows: reopening.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { MemoryVectorStore } from '../../src/search/vectors/MemoryVectorStore.ts'
import { SqliteVectorStore } from '../../src/search/vectors/SqliteVectorStore.ts'
import type { VectorStore } from '../../src/search/vectors/VectorStore.ts'

const v = (...xs: number[]): Float32Array => Float32Array.from(xs)

function suite (name: string, open: () => { store: VectorStore, teardown?: () => void }): void {
  describe(`VectorStore conformance: ${name}`, () => {
    let current: { store: VectorStore, teardown?: () => void } | undefined
    const fresh = (): VectorStore => { current = open(); return current.store }
    afterEach(() => { current?.store.close(); current?.teardown?.(); current = undefined })

    it('answers the nearest vectors by cosine, best first, of the kinds asked', () => {
      const s = fresh()
      assert.deepEqual(s.meta(), { model: undefined, cursor: 0, count: 0 })
      s.reset('m')
      s.write([
        { kind: 'triple', key: 'a', vector: v(1, 0, 0) },
        { kind: 'note', key: 'b', vector: v(10, 10, 0) },
        { kind: 'episode', key: 'c', vector: v(0, 0, 3) },
        { kind: 'trace', key: 'd', vector: v(-1, 0, 0) }
      ], 7)
      assert.deepEqual(s.meta(), { model: 'm', cursor: 7, count: 4 })
      const near = s.nearest(v(2, 1, 0), 4)
      assert.deepEqual(near.map(h => h.key), ['b', 'a', 'c', 'd'])
      assert.ok(Math.abs(near[0]!.similarity - (30 / Math.sqrt(5) / Math.sqrt(200))) < 1e-6)
      assert.deepEqual(s.nearest(v(2, 1, 0), 2).map(h => h.key), ['b', 'a'])
      assert.deepEqual(s.nearest(v(2, 1, 0), 5, ['episode', 'trace']).map(h => h.key), ['c', 'd'])
      assert.deepEqual(s.nearest(v(1, 0, 0), 0), [])
    })

    it('replaces and removes vectors; a reset forgets them all', () => {
      const s = fresh()
      s.reset('m')
      s.write([{ kind: 'triple', key: 'a', vector: v(1, 0) }, { kind: 'triple', key: 'b', vector: v(0, 1) }, { kind: 'note', key: 'a', vector: v(1, 1) }], 3)
      s.write([{ kind: 'triple', key: 'a', vector: v(0, 1) }, { kind: 'triple', key: 'b' }], 5)
      assert.deepEqual(s.keys().map(k => `${k.kind}:${k.key}`).sort(), ['note:a', 'triple:a'])
      assert.deepEqual(s.nearest(v(0, 1), 1), [{ kind: 'triple', key: 'a', similarity: 1 }])
      s.reset('other')
      assert.deepEqual(s.meta(), { model: 'other', cursor: 0, count: 0 })
      assert.deepEqual(s.nearest(v(0, 1), 3), [])
    })

    it('refuses a write holding vectors of another length, whole', () => {
      const s = fresh()
      s.reset('m')
      s.write([{ kind: 'triple', key: 'a', vector: v(1, 0) }], 1)
      assert.throws(() => s.write([{ kind: 'triple', key: 'b', vector: v(1, 0) }, { kind: 'triple', key: 'c', vector: v(1, 0, 0) }], 2),
        (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
      assert.deepEqual(s.meta(), { model: 'm', cursor: 1, count: 1 })
      assert.throws(() => s.nearest(v(1, 0, 0), 1), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
    })
  })
}

suite('memory', () => ({ store: new MemoryVectorStore() }))
suite('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-vectors-'))
  return { store: SqliteVectorStore.open(join(dir, 'vectors.db')), teardown: () => rmSync(dir, { recursive: true, force: true }) }
})

describe('SqliteVectorStore: the file', () => {
  it('keeps vectors, model and cursor across a reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-vectors-'))
    try {
      const file = join(dir, 'nested', 'vectors.db')
      let s = SqliteVectorStore.open(file)
      s.reset('m')
      s.write([{ kind: 'triple', key: 'a', vector: v(3, 4) }, { kind: 'note', key: 'b', vector: v(0, 1) }], 9)
      s.write([{ kind: 'note', key: 'b' }], 10)
      s.close()
      s = SqliteVectorStore.open(file)
      assert.deepEqual(s.meta(), { model: 'm', cursor: 10, count: 1 })
      const [hit] = s.nearest(v(3, 4), 1)
      assert.equal(hit!.key, 'a')
      assert.ok(Math.abs(hit!.similarity - 1) < 1e-6)
      s.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
