/**
 * Other machines can never lock programs on this machine out of the REST API: a daemon whose API
 * is open to the network (api.host 0.0.0.0) is held by a slowloris from five remote addresses,
 * 250 connections each (more than every connection cap), for the whole test; meanwhile every
 * health request from its own machine (loopback) is answered. The remote machine is a network
 * namespace the test creates (test/netns/Lab.ts), the daemon runs in another, and both the
 * attacker and the health client are processes in those namespaces (slowAgent.ts). The attack
 * ends once the health client is done (at the latest after ATTACK_MS).
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { cannotRun, Lab, type DaemonHandle, type LabNode } from '../netns/Lab.ts'

const AGENT = fileURLToPath(new URL('./slowAgent.ts', import.meta.url))
const SKIP = cannotRun()
const SOURCES = 5
const PER_SOURCE = 250
// an upper bound: the attack is ended as soon as the health client is done
const ATTACK_MS = 120_000
const HEALTH_MS = 20_000

/**
 * Runs slowAgent.ts in a namespace; calls `onLine` with each JSON line; resolves with the last.
 * `end` asks it to finish now (SIGTERM; `ip netns exec` runs the agent in its own place).
 */
function agent (ns: string, args: readonly string[], onLine: (o: Record<string, unknown>) => void = () => {}): Promise<Record<string, unknown>> & { end: () => void } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, AGENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let last: Record<string, unknown> = {}
  createInterface({ input: child.stdout }).on('line', line => {
    try { last = JSON.parse(line) as Record<string, unknown>; onLine(last) } catch { /* not ours */ }
  })
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    // 'close', not 'exit': the agent's last line (its result) is read by then
    child.on('close', code => { if (code === 0) resolve(last); else reject(new Error(`slowAgent ${args[0] ?? ''} exited with ${code ?? '?'}`)) })
  })
  return Object.assign(done, { end: () => { child.kill('SIGTERM') } })
}

describe('remote connections never lock out this machine', { skip: SKIP }, () => {
  let lab: Lab
  let victim: LabNode
  let attacker: LabNode
  let daemon: DaemonHandle
  const sources: string[] = []

  before(async () => {
    lab = new Lab()
    victim = lab.addNode('victim', 1)
    attacker = lab.addNode('attacker', 2)
    for (let i = 0; i < SOURCES; i++) {
      const ip = `10.${lab.net}.0.${10 + i}`
      if (i > 0) spawnSync('ip', ['-n', attacker.ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0'])
      sources.push(i === 0 ? attacker.ip : ip)
    }
    daemon = await lab.start(victim, { api: { host: '0.0.0.0' } })
  })

  after(async () => { await lab?.destroy() })

  it(`loopback health is answered every time under a remote slowloris of ${SOURCES} × ${PER_SOURCE} connections`, async () => {
    const port = new URL(daemon.url).port
    let maxOpen = 0
    let ready: () => void = () => {}
    const held = new Promise<void>(resolve => { ready = resolve })
    const attack = agent(attacker.ns, ['slowloris', victim.ip, port, sources.join(','), String(PER_SOURCE), String(ATTACK_MS)], o => {
      if (typeof o.open === 'number') {
        maxOpen = Math.max(maxOpen, o.open)
        // The remote budget (api.maxRemoteConnections, 512) is full: the attack holds what it can.
        if (o.open >= 500) ready()
      }
    })
    await Promise.race([held, attack.then(() => { throw new Error(`the attack never held 500 connections (at most ${maxOpen})`) })])
    const health = await agent(victim.ns, ['health', `http://127.0.0.1:${port}`, String(HEALTH_MS)])
    attack.end()
    const result = await attack
    process.stdout.write(`# slowloris: ${String(result.maxOpen)} connections held at most (${String(result.opened)} opened); ` +
      `loopback health: ${String(health.answered)} of ${String(health.asked)} answered\n`)
    assert.ok(Number(health.asked) >= 10, `only ${String(health.asked)} health requests were made`)
    assert.equal(health.answered, health.asked, `failures: ${JSON.stringify(health.failures)}`)
    // The daemon is still well afterwards.
    assert.equal((await lab.request<{ status: string }>(daemon, 'GET', '/api/v1/health')).status, 'healthy')
  })
})
