/**
 * The one import of @peculiar/x509 (certificate generation), after the Reflect metadata API it
 * needs (reflectMetadata.ts). Node's WebCrypto is its crypto provider.
 */
import './reflectMetadata.ts'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(globalThis.crypto)

export { x509 }
