/**
 * MemoryStore against the store acceptance suite.
 */
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { runStoreTests } from './conformance.ts'

runStoreTests('memory', opts => ({ store: new MemoryStore(opts) }))
