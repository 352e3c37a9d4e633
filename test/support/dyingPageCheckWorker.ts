/**
 * A page checks' worker that dies on the first page it is given (test/node/page-check-worker.test.ts):
 * what a worker killed mid-copy looks like to src/node/WorkerPageChecker.ts.
 */
import { parentPort } from 'node:worker_threads'

parentPort?.on('message', () => { process.exit(3) })
