/**
 * Transport measurements over QUIC on loopback: round-trip latency of a small frame and
 * throughput of 1 MiB frames. `benchTransport()` is called by the bench runner; running this
 * file directly prints the figures for QUIC and TCP, each without and with the private-network
 * key (which wraps TCP only; QUIC must not change).
 */
import { derivePrivateNetworkKey } from '../src/transport/libp2p/privateNetwork.ts'
import { QuicTransport } from '../src/transport/libp2p/QuicTransport.ts'
import type { Connection } from '../src/transport/Transport.ts'
import { percentile } from './stats.ts'

export interface TransportBenchOptions {
  /** Round trips measured (after warm-up). Default 2,000. */
  roundTrips?: number
  /** 1 MiB frames sent for the throughput figure. Default 256. */
  bulkFrames?: number
  /** Which transport to measure. Default 'quic'. */
  transports?: 'quic' | 'tcp'
  /** Give both nodes this private-network key (TCP only). */
  privateNetworkKey?: Uint8Array
}


const round3 = (x: number): number => Math.round(x * 1000) / 1000

export async function benchTransport (opts: TransportBenchOptions = {}): Promise<Record<string, number>> {
  const roundTrips = opts.roundTrips ?? 2000
  const bulkFrames = opts.bulkFrames ?? 256
  const kind = opts.transports ?? 'quic'
  const psk = opts.privateNetworkKey !== undefined ? { privateNetworkKey: opts.privateNetworkKey } : {}
  const name = `${kind}${opts.privateNetworkKey !== undefined ? '_private' : ''}`
  const a = await QuicTransport.create({ host: '127.0.0.1', port: 0, transports: kind, ...psk })
  const b = await QuicTransport.create({ host: '127.0.0.1', port: 0, transports: kind, ...psk })
  await a.start()
  await b.start()
  try {
    // b echoes small frames and counts bulk ones
    let bulkReceived = 0
    let bulkDone: (() => void) | undefined
    b.onConnection((conn: Connection) => {
      conn.onFrame((f) => {
        if (f.byteLength <= 64) { void conn.send(f).catch(() => {}); return }
        bulkReceived++
        if (bulkReceived === bulkFrames) bulkDone?.()
      })
    })
    const conn = await a.dial(b.listenAddrs()[0] as string)
    let echo: (() => void) | undefined
    conn.onFrame(() => { echo?.() })
    const small = new Uint8Array(32)
    const ping = async (): Promise<number> => {
      const t0 = process.hrtime.bigint()
      const back = new Promise<void>(resolve => { echo = resolve })
      await conn.send(small)
      await back
      return Number(process.hrtime.bigint() - t0) / 1e6
    }
    for (let i = 0; i < 100; i++) await ping()
    const rtts: number[] = []
    for (let i = 0; i < roundTrips; i++) rtts.push(await ping())
    rtts.sort((x, y) => x - y)

    const mib = new Uint8Array(1024 * 1024).fill(7)
    const allIn = new Promise<void>(resolve => { bulkDone = resolve })
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < bulkFrames; i++) await conn.send(mib)
    await allIn
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9

    return {
      [`${name}_rtt_small_frame_p50_ms`]: round3(percentile(rtts, 0.5)),
      [`${name}_rtt_small_frame_p99_ms`]: round3(percentile(rtts, 0.99)),
      [`${name}_throughput_1mib_frames_mib_per_s`]: round3(bulkFrames / seconds)
    }
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

if (import.meta.main) {
  const key = await derivePrivateNetworkKey('bench-seed')
  console.log(await benchTransport())
  console.log(await benchTransport({ privateNetworkKey: key }))
  console.log(await benchTransport({ transports: 'tcp' }))
  console.log(await benchTransport({ transports: 'tcp', privateNetworkKey: key }))
}
