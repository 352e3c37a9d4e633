/** The transport layer of native sync: see `Transport.ts` for the contract. */
export type { CloseInfo, Connection, DialOptions, Transport } from './Transport.ts'
export { DEFAULT_MAX_FRAME_BYTES, ENGRAM_PROTOCOL } from './Transport.ts'
export { QuicTransport, type QuicTransportOptions, type TransportKinds } from './libp2p/QuicTransport.ts'
export {
  MemoryNetwork, MemoryTransport, MemoryConnection, mulberry32,
  type LinkConditions, type MemoryNetworkOptions, type MemoryNetworkStats, type MemoryTransportOptions
} from './memory/MemoryTransport.ts'
export { dialAddress, type HostPort } from './util.ts'
export { derivePrivateNetworkKey, PRIVATE_NETWORK_KEY_BYTES } from './libp2p/privateNetwork.ts'
