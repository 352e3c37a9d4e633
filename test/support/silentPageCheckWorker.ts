/**
 * A page checks' worker that takes pages and never answers (test/node/page-check-worker.test.ts):
 * what a hung worker looks like to src/node/WorkerPageChecker.ts.
 */
import { parentPort } from 'node:worker_threads'

parentPort?.on('message', () => {})
