/**
 * The node's persistent identity: an Ed25519 key pair kept in `<dataDir>/identity.key`
 * (libp2p protobuf encoding, file mode 0600). The node id is the libp2p peer id derived from it,
 * so it is stable across restarts and is what peers know this node by.
 *
 * The key is created on first start. A key file that group or others can read is refused: the
 * key authenticates this node to its peers, so a copy lets someone else pose as it.
 */
import { readFileSync, statSync } from 'node:fs'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { EngramError, CONFIG_UNUSABLE, INVALID_INPUT, STORE_CORRUPT } from '../core/errors.ts'
import { asNodeId, type NodeId } from '../core/ids.ts'
import { createFileOnce } from '../util/files.ts'
import { dataPaths } from './paths.ts'

export interface NodeIdentity {
  readonly privateKey: PrivateKey
  readonly nodeId: NodeId
}

/**
 * A node id given by a person (`engram tls issue --node-id`): the peer id of an Ed25519 key, as
 * `engram status` prints it ("12D3KooW…", 52 characters). INVALID_INPUT naming `field` otherwise.
 */
export function parseNodeId (text: string, field: string): NodeId {
  let type: string | undefined
  try {
    type = peerIdFromString(text).type
  } catch {
    type = undefined
  }
  if (type !== 'Ed25519') {
    throw INVALID_INPUT(field, `must be the node id of an engram node, as engram status prints it there ("12D3KooW…", 52 characters); got ${JSON.stringify(text)}`)
  }
  return asNodeId(text)
}

export interface IdentityResult extends NodeIdentity {
  /** True when the key was created by this call. */
  readonly created: boolean
  readonly path: string
}

function KEY_FILE_INSECURE (path: string, mode: number): EngramError {
  const octal = (mode & 0o777).toString(8).padStart(3, '0')
  return CONFIG_UNUSABLE(
    `identity key ${path} can be read or written by group or others (mode ${octal}); run: chmod 600 ${path}`,
    { path, mode: octal })
}

function KEY_FILE_UNREADABLE (path: string, why: string): EngramError {
  return STORE_CORRUPT(
    `identity key ${path} cannot be used: ${why}; restore it from a backup, or move it away to create a new ` +
    'identity (this node then gets a new node id and its peers must pair with it again)', { path })
}

/** Loads the node's key from `<dataDir>/identity.key`, creating it on first use. */
export async function loadOrCreateIdentity (dataDir: string): Promise<IdentityResult> {
  const path = dataPaths(dataDir).identity
  let bytes: Buffer | undefined
  try {
    const st = statSync(path)
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw KEY_FILE_INSECURE(path, st.mode)
    bytes = readFileSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof EngramError) throw e
      throw KEY_FILE_UNREADABLE(path, (e as Error).message)
    }
  }
  if (bytes !== undefined) {
    let privateKey: PrivateKey
    try {
      privateKey = privateKeyFromProtobuf(bytes)
    } catch (e) {
      throw KEY_FILE_UNREADABLE(path, `not a private key (${(e as Error).message})`)
    }
    if (privateKey.type !== 'Ed25519') throw KEY_FILE_UNREADABLE(path, `it is a ${privateKey.type} key, not Ed25519`)
    return { privateKey, nodeId: asNodeId(peerIdFromPrivateKey(privateKey).toString()), created: false, path }
  }
  const privateKey = await generateKeyPair('Ed25519')
  // Written once, atomically: two nodes starting at once on one directory share the first key.
  if (!createFileOnce(path, privateKeyToProtobuf(privateKey), 0o600)) return loadOrCreateIdentity(dataDir)
  return { privateKey, nodeId: asNodeId(peerIdFromPrivateKey(privateKey).toString()), created: true, path }
}
