/**
 * The worker thread of WorkerPageChecker.ts: checks the `changes` pages the node's sessions hand
 * it (protocol/native/pageCheck.ts: decode, row checks and ids, signatures with node:crypto's
 * Ed25519 as keys.ts verifies them), one at a time in the order they come, and answers each with
 * its result in the form that crosses threads (sync/native/checkedPageTransfer.ts).
 *
 *   in:  { id, body }          body: a frame's body, its buffer handed over
 *   out: { id, check }         check: SentCheck
 *
 * `workerData.verify`: whether signatures are checked (the node's engine checks them).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { checkChangesBody } from '../protocol/native/pageCheck.ts'
import { sendCheck } from '../sync/native/checkedPageTransfer.ts'
import { NodeKeyVerifier } from './keys.ts'

const port = parentPort
if (port === null) throw new Error('pageCheckWorker runs as a worker thread')
const verifier = (workerData as { verify?: boolean } | undefined)?.verify === true ? new NodeKeyVerifier() : undefined

port.on('message', ({ id, body }: { id: number, body: Uint8Array }) => {
  port.postMessage({ id, check: sendCheck(checkChangesBody(body, verifier)) })
})
