/**
 * What to do about a sync error, from its code or message: the first rule that matches. The
 * node's own log lines already say what to do; this is the short version beside a peer. Pure.
 */

/** @type {ReadonlyArray<[RegExp, string]>} */
const RULES = [
  [/passphrase/i, 'Set the same sync.passphrase on both machines (engram config print shows where each value comes from).'],
  [/UNAUTHORIZED|auth failed|signature/i, 'The shared secret differs: set the same sync.passphrase and p2p.seed on both machines.'],
  [/seed/i, 'Set the same p2p.seed on both machines.'],
  [/certificate|TLS|CA\b/i, 'Issue this machine\'s certificate from the same CA as the peer\'s (engram tls issue; docs/TLS.md).'],
  [/HLC_DRIFT|clock/i, 'The two clocks disagree: turn on time synchronisation (NTP) on both machines.'],
  [/ECONNREFUSED|unreachable|UNAVAILABLE|not running/i, 'Start engram on the other machine, or check its address and port (engram sync status there).'],
  [/TIMEOUT|timed out|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/i, 'The peer does not answer: check the network between the machines and the firewall (UDP for P2P, TCP for REST).'],
  [/RATE_LIMITED|flood/i, 'The peer sends faster than this node allows; it is slowed down and catches up by itself.'],
  [/PROTOCOL/i, 'The two nodes disagree on the protocol: run the same engram version on both machines.']
]

/** @param {{ message: string, code?: string } | null} error */
export function adviceFor (error) {
  if (error === null) return undefined
  const text = `${error.code ?? ''} ${error.message}`
  for (const [re, advice] of RULES) if (re.test(text)) return advice
  return 'The node retries by itself with backoff; the log line says more.'
}
