/**
 * recall@5 on the labelled set test/fixtures/retrieval.json, for three ways of searching:
 *
 * - substring: today's behaviour before ranked search: a record matches when its text (a triple's
 *   subject, predicate and object; a note's key and value; an episode's or trace's data) contains
 *   the whole query, ignoring case; results in storage order, triples grouped by subject (as the
 *   memory server's search_nodes and note_search did);
 * - full text: Recall in text mode (BM25, loosening, grouping by entity);
 * - hybrid: Recall with semantic search, the vectors made by the deterministic test model of
 *   embeddingServer.ts served over HTTP (a model of synonym classes and trigrams, not a real one:
 *   the figure shows what fusion adds with it, not what a real model would give).
 *
 * A question scores 1 when a record answering it is in one of the first five results (an entity
 * result holds its triples), else 0; recall@5 is the mean. Used by test/search/retrieval.test.ts
 * and bench/retrieval.ts.
 */
import { readFileSync } from 'node:fs'
import { asNodeId } from '../../src/core/ids.ts'
import { recordKey, type Json, type JsonObject, type MemoryRecord } from '../../src/core/model.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { OpenAiEmbedder } from '../../src/search/OpenAiEmbedder.ts'
import { Recall, type RecallResult } from '../../src/search/Recall.ts'
import { SemanticIndex } from '../../src/search/SemanticIndex.ts'
import { MemoryVectorStore } from '../../src/search/vectors/MemoryVectorStore.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { fieldsOf } from '../../src/text/document.ts'

interface Fixture {
  readonly records: ReadonlyArray<{ ref: string, triple?: [string, string, Json], note?: [string, Json], episode?: [string, JsonObject], trace?: [string, string, Json] }>
  readonly questions: ReadonlyArray<{ q: string, answers: string[] }>
}

export const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/retrieval.json', import.meta.url), 'utf8')) as Fixture

export interface RetrievalFigures {
  readonly questions: number
  readonly substring: number
  readonly fullText: number
  readonly hybrid: number
  /** Per question, for reports: which methods found an answer in the top five. */
  readonly found: ReadonlyArray<{ q: string, substring: boolean, fullText: boolean, hybrid: boolean }>
}

const keyOf = (r: MemoryRecord): string => `${r.kind}:${recordKey(r)}`

/** The record keys each result holds. */
function units (results: readonly RecallResult[]): string[][] {
  return results.map(r => (r.type === 'entity' ? r.triples.map(t => keyOf(t.record)) : [keyOf(r.record)]))
}

function substringSearch (store: MemoryStore, q: string): string[][] {
  const needle = q.toLowerCase()
  const records = store.changesSince(0, { limit: 100_000 }).entries.map(e => e.record)
  const out: string[][] = []
  const bySubject = new Map<string, string[]>()
  for (const r of records) {
    const text = r.kind === 'note' ? `${r.key}\n${JSON.stringify(r.value)}` : r.kind === 'triple' ? fieldsOf(r).map(f => f.text).join('\n') : JSON.stringify(r)
    if (!text.toLowerCase().includes(needle)) continue
    if (r.kind !== 'triple') { out.push([keyOf(r)]); continue }
    let group = bySubject.get(r.subject)
    if (group === undefined) { bySubject.set(r.subject, group = []); out.push(group) }
    group.push(keyOf(r))
  }
  return out
}

export async function evaluateRetrieval (embedderUrl: string, model = 'concepts-64'): Promise<RetrievalFigures> {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-eval'), maxDriftMs: 60_000 })
  const vectors = new MemoryVectorStore()
  const semantic = new SemanticIndex({
    store, vectors, embedder: new OpenAiEmbedder({ url: embedderUrl, model }),
    subscribe: fn => { engine.on('change', fn); return () => engine.off('change', fn) }
  })
  semantic.start()
  const refs = new Map<string, string>()
  for (const r of FIXTURE.records) {
    let rec: MemoryRecord
    if (r.triple !== undefined) rec = engine.addTriples([{ subject: r.triple[0], predicate: r.triple[1], object: r.triple[2] }])[0]!
    else if (r.note !== undefined) rec = engine.setNote(r.note[0], r.note[1])
    else if (r.episode !== undefined) rec = engine.putEpisode({ id: r.episode[0], data: r.episode[1] })
    else rec = engine.appendTraces([{ runId: r.trace![0], type: r.trace![1], data: r.trace![2] }])[0]!
    refs.set(r.ref, keyOf(rec))
  }
  await semantic.settled()
  const text = new Recall({ store })
  const hybrid = new Recall({ store, semantic })
  const hit = (results: readonly string[][], answers: readonly string[]): boolean =>
    results.slice(0, 5).some(u => answers.some(a => u.includes(refs.get(a)!)))
  const found: Array<RetrievalFigures['found'][number]> = []
  for (const { q, answers } of FIXTURE.questions) {
    const t = await text.search({ q, limit: 5, expand: 0, mode: 'text' })
    const h = await hybrid.search({ q, limit: 5, expand: 0, mode: 'hybrid' })
    if (h.semantic?.error !== undefined) throw new Error(`semantic search failed: ${h.semantic.error}`)
    found.push({ q, substring: hit(substringSearch(store, q), answers), fullText: hit(units(t.results), answers), hybrid: hit(units(h.results), answers) })
  }
  await semantic.stop()
  const share = (k: 'substring' | 'fullText' | 'hybrid'): number => Math.round(found.filter(f => f[k]).length / found.length * 1000) / 1000
  return { questions: found.length, substring: share('substring'), fullText: share('fullText'), hybrid: share('hybrid'), found }
}
