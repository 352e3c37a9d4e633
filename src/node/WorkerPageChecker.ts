/**
 * The page checker (sync/native/PageChecker.ts) of a running node: one worker thread
 * (pageCheckWorker.ts), started on the first page a session gives it — a large page of a catch-up
 * with more than MIN_WORKER_LEFT entries to come (NativeSession.ts), never at start, so a node
 * that restarts, resumes or copies a store of 100,000 records or fewer starts no thread — and stopped
 * after IDLE_MS without pages (its memory is given back; the next large page starts it again).
 *
 * A page's body is handed to the worker (transferred, not copied) as it arrives; the worker checks
 * the pages one at a time in that order, so while the session applies page N the worker checks page
 * N + 1 on the other core. The result comes back as the records and verified signatures the apply
 * takes (sync/native/checkedPageTransfer.ts).
 *
 * Every wait is bounded. A worker that exits or fails rejects every page it held with an INTERNAL
 * error; one that answers nothing for TIMEOUT_MS while pages wait is stopped and they are rejected
 * with TIMEOUT: the sessions waiting on them fail (naming the cause), and the node dials again —
 * the next large page starts a new worker. After MAX_FAILURES such failures in a row the checker
 * gives up on threads (logged once): `minBytes` becomes infinite and every session checks its
 * pages itself, as without a checker.
 */
import { Worker } from 'node:worker_threads'
import { INTERNAL, TIMEOUT } from '../core/errors.ts'
import { takeCheck, type SentCheck } from '../sync/native/checkedPageTransfer.ts'
import type { PageCheck, PageChecker } from '../sync/native/PageChecker.ts'
import type { Logger } from '../util/log.ts'

/**
 * Frame bodies below this many bytes are checked by the session itself. A catch-up page of
 * 10,000 triples is 0.5–1 MB; a live page of 100 records about 10 KB. Measured (2-core machine):
 * below about 64 KiB (some 600 records) the hop — the handover, the answer's structured clone,
 * the wake-ups of two threads — costs the session's thread about as much as the checks it saves.
 */
export const MIN_WORKER_BYTES = 64 * 1024
/**
 * Pages go to the worker only while the catch-up has more than this many entries to come. Measured
 * (peers bench, 2-core machine, same runs against the build before): a 1,000,000-record copy took
 * 8 % less time with the worker (two runs), a 100,000-record copy 5–15 % more in three of four
 * runs (the worker's start, its own heap's collections and the hop cost more than the overlap
 * saves when the source keeps the second core two thirds busy). So a copy of 100,000 or fewer
 * records is checked on the main thread, as before.
 */
export const MIN_WORKER_LEFT = 100_000
/** Longest the worker may go without answering while pages wait, ms. */
export const TIMEOUT_MS = 60_000
/** The worker stops after this long without pages, ms. */
export const IDLE_MS = 30_000
/** Worker failures in a row after which pages are checked on the session's thread again. */
export const MAX_FAILURES = 3

export interface WorkerPageCheckerOptions {
  /** Whether signatures are checked (the engine has a verifier). */
  readonly verify: boolean
  readonly log?: Logger
  /** Default MIN_WORKER_BYTES. */
  readonly minBytes?: number
  /** Default MIN_WORKER_LEFT: pages of a large catch-up only. */
  readonly minLeft?: number
  /** Default TIMEOUT_MS. */
  readonly timeoutMs?: number
  /** Default IDLE_MS. */
  readonly idleMs?: number
  /** The worker's module (default pageCheckWorker beside this one; tests give one that fails). */
  readonly workerUrl?: URL
}

interface Waiting {
  readonly resolve: (check: PageCheck) => void
  readonly reject: (e: unknown) => void
}

/** The worker's module: beside this one, as built (.js) or as the sources run (.ts). */
const WORKER_URL = new URL(`./pageCheckWorker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)

export class WorkerPageChecker implements PageChecker {
  private readonly opts: WorkerPageCheckerOptions
  private worker: Worker | undefined
  private readonly waiting = new Map<number, Waiting>()
  private nextId = 0
  private failures = 0
  private gaveUp = false
  private watchdog: NodeJS.Timeout | undefined
  private idle: NodeJS.Timeout | undefined
  /** Workers started (for the status and tests). */
  started = 0

  constructor (opts: WorkerPageCheckerOptions) {
    this.opts = opts
  }

  get minLeft (): number {
    return this.opts.minLeft ?? MIN_WORKER_LEFT
  }

  get minBytes (): number {
    return this.gaveUp ? Number.POSITIVE_INFINITY : this.opts.minBytes ?? MIN_WORKER_BYTES
  }

  check (body: Uint8Array): Promise<PageCheck> {
    const worker = this.worker ?? this.start()
    const id = this.nextId++
    if (this.idle !== undefined) { clearTimeout(this.idle); this.idle = undefined }
    return new Promise<PageCheck>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      if (this.waiting.size === 1) this.armWatchdog()
      try {
        worker.postMessage({ id, body }, [body.buffer as ArrayBuffer])
      } catch {
        // a buffer that cannot be handed over (one Node.js marks as not transferable): a copy goes
        worker.postMessage({ id, body: new Uint8Array(body) })
      }
    })
  }

  async close (): Promise<void> {
    const worker = this.worker
    if (worker === undefined) return
    this.drop(worker, INTERNAL('the page checks stopped: the node is stopping'))
    await worker.terminate()
  }

  private start (): Worker {
    const worker = new Worker(this.opts.workerUrl ?? WORKER_URL, { workerData: { verify: this.opts.verify } })
    this.started++
    // the worker never keeps the process alive: a node stops when its parts have stopped
    worker.unref()
    worker.on('message', (m: { id: number, check: SentCheck }) => { this.answer(worker, m) })
    worker.on('error', e => { this.failed(worker, INTERNAL(`the page checks' worker failed: ${e.message}`)) })
    worker.on('exit', code => { this.failed(worker, INTERNAL(`the page checks' worker exited (code ${code})`)) })
    this.worker = worker
    return worker
  }

  private answer (worker: Worker, m: { id: number, check: SentCheck }): void {
    if (worker !== this.worker) return
    const w = this.waiting.get(m.id)
    if (w === undefined) return
    this.waiting.delete(m.id)
    this.failures = 0
    // an answer is progress: the next page gets the whole time limit
    if (this.waiting.size > 0) this.armWatchdog()
    else this.rest()
    let check: PageCheck
    try {
      check = takeCheck(m.check)
    } catch (e) {
      w.reject(e)
      return
    }
    w.resolve(check)
  }

  /** No page waits: stop the watchdog, and the worker itself after idleMs. */
  private rest (): void {
    if (this.watchdog !== undefined) { clearTimeout(this.watchdog); this.watchdog = undefined }
    if (this.idle !== undefined) clearTimeout(this.idle)
    const worker = this.worker
    this.idle = setTimeout(() => {
      this.idle = undefined
      if (worker === this.worker && this.waiting.size === 0) {
        this.worker = undefined
        void worker?.terminate()
      }
    }, this.opts.idleMs ?? IDLE_MS)
    this.idle.unref()
  }

  private armWatchdog (): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog)
    const worker = this.worker
    const ms = this.opts.timeoutMs ?? TIMEOUT_MS
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined
      if (worker === undefined || worker !== this.worker || this.waiting.size === 0) return
      this.failed(worker, TIMEOUT('the page checks\' worker answering', ms))
      void worker.terminate()
    }, ms)
    this.watchdog.unref()
  }

  /** The worker failed: every page it held is rejected with `error`; the next page starts another. */
  private failed (worker: Worker, error: Error): void {
    if (worker !== this.worker) return
    const held = this.waiting.size
    this.drop(worker, error)
    this.failures++
    this.opts.log?.warn(`${error.message}${held > 0 ? ` with ${held} page(s) to check` : ''}`, { failures: this.failures })
    if (this.failures >= MAX_FAILURES && !this.gaveUp) {
      this.gaveUp = true
      this.opts.log?.warn(`the page checks' worker failed ${this.failures} times in a row: received pages are checked on the main thread from now on`)
    }
  }

  /** Forgets `worker` and rejects what it held. */
  private drop (worker: Worker, error: Error): void {
    if (worker !== this.worker) return
    this.worker = undefined
    if (this.watchdog !== undefined) { clearTimeout(this.watchdog); this.watchdog = undefined }
    if (this.idle !== undefined) { clearTimeout(this.idle); this.idle = undefined }
    const waiting = [...this.waiting.values()]
    this.waiting.clear()
    for (const w of waiting) w.reject(error)
  }
}
