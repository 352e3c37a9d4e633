/**
 * The store acceptance suite: every Store implementation runs it (see memory.test.ts and
 * sqlite.test.ts) and must behave identically. `setup` makes a fresh, empty store for each test
 * (with options, when a test needs them);
 * `teardown` (optional) releases it after the store was closed.
 */
import { afterEach, beforeEach, describe } from 'node:test'
import type { Store } from '../../src/store/Store.ts'
import { feedTests } from './conformance/feed.ts'
import { knowledgeTests } from './conformance/knowledge.ts'
import { lifecycleTests } from './conformance/lifecycle.ts'
import { mergeTests } from './conformance/merge.ts'
import { provenanceTests } from './conformance/provenance.ts'
import { provenanceTimeTests } from './conformance/provenanceTime.ts'
import { queryTests } from './conformance/queries.ts'
import { searchTests } from './conformance/search.ts'
import { textDeferTests } from './conformance/textDefer.ts'
import { indexDeferTests } from './conformance/indexDefer.ts'
import type { StoreOptions, StoreRef } from './conformance/fixtures.ts'

export interface StoreSetup {
  readonly store: Store
  readonly teardown?: () => void
}

export function runStoreTests (name: string, setup: (opts?: StoreOptions) => StoreSetup): void {
  describe(`Store conformance: ${name}`, () => {
    let current: StoreSetup | undefined
    const ref: StoreRef = {
      get store (): Store {
        if (current === undefined) throw new Error('no store: setup did not run')
        return current.store
      }
    }
    beforeEach(() => { current = setup() })
    afterEach(() => {
      const done = current
      current = undefined
      done?.store.close()
      done?.teardown?.()
    })
    describe('merge through apply', () => mergeTests(ref))
    describe('changes feed and tombstones', () => feedTests(ref))
    describe('queries, listings, dump', () => queryTests(ref))
    describe('metadata, stats, health, engine adds', () => lifecycleTests(ref))
    describe('full-text index and search', () => searchTests(ref, setup))
    describe('full-text indexing deferred by a catch-up', () => textDeferTests(ref, setup))
    describe('secondary indexes deferred by a catch-up', () => indexDeferTests(ref, setup))
    describe('seals, history, as-of reads', () => provenanceTests(ref))
    describe('knowledge, held records, voids, clock repair', () => knowledgeTests(ref))
    describe('signed records across time: held, repaired, collected', () => provenanceTimeTests(ref))
  })
}
