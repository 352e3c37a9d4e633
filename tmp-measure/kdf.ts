import { argon2id } from 'hash-wasm'
import { blake3 } from '../src/core/hash.ts'
const salt = new TextEncoder().encode('engram/p2p-private-network/v2')
let t0 = performance.now(); let n = 0
while (performance.now() - t0 < 2000) { blake3('engram/p2p-private-network/v1\0guess' + n); n++ }
console.log('blake3 derivations/s', Math.round(n / ((performance.now() - t0) / 1000)))
t0 = performance.now(); n = 0
while (performance.now() - t0 < 5000) { await argon2id({ password: 'guess' + n, salt, parallelism: 1, iterations: 3, memorySize: 65536, hashLength: 32, outputType: 'binary' }); n++ }
console.log('argon2id m=64MiB t=3 p=1 guesses/s', (n / ((performance.now() - t0) / 1000)).toFixed(2), 'ms each', ((performance.now() - t0) / n).toFixed(0))
