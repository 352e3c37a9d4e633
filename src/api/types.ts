/**
 * What the REST API needs from the node that hosts it. The composition root (node/EngramNode.ts)
 * builds this; tests build it around a store in a temporary directory.
 */
import type { Engine } from '../engine/Engine.ts'

export interface NodeStatus {
  readonly nodeId: string
  readonly version: string
  readonly startedAt: string
  readonly dataDir: string
  readonly store: { readonly kind: string, readonly path: string }
}

export interface ApiDeps {
  readonly engine: Engine
  /** Package version, reported by /api/v1/health. */
  readonly version: string
  /** Largest accepted request body, bytes. */
  readonly bodyLimitBytes: number
  /** Node facts for GET /api/v1/status. */
  readonly status: () => NodeStatus
  /**
   * Native P2P status for GET /api/v1/p2p/status, or undefined while P2P is not enabled
   * (then the route answers 404 {"error": "P2P not enabled"}).
   */
  readonly p2pStatus?: () => Record<string, unknown> | undefined
  /**
   * Called with every error that answers 500 (a bug or an unexpected failure), so the node can
   * log it; the client only sees `{"error": "internal error…", "code": "INTERNAL"}`.
   */
  readonly onInternalError?: (err: unknown, request: { method: string, url: string }) => void
}
