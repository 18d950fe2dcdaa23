/**
 * A single etcd member: Patroni's consensus store (who leads, the cluster's settings). One
 * member suffices on one machine; its data under `dir` survives restarts, so a second start
 * finds the cluster Patroni made.
 */
import { mkdir } from 'node:fs/promises'
import { SupervisedProcess, type LogLine } from '../supervised-process.ts'
import type { Watchdog } from '../watchdog.ts'
import { patroniGet } from './patroni-member.ts'
import { pollUntil } from './waiting.ts'

export async function startEtcd (
  { dir, clientPort, peerPort, log, watchdog, readyTimeoutMs }: { dir: string, clientPort: number, peerPort: number, log: LogLine, watchdog: Watchdog, readyTimeoutMs: number }
): Promise<SupervisedProcess> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const client = `http://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  const engine = new SupervisedProcess({
    exitLogSource: 'ha',
    name: 'etcd',
    command: '/usr/bin/etcd',
    args: [
      '--name', 'orders-ha', '--data-dir', dir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `orders-ha=${peer}`, '--initial-cluster-state', 'new',
      '--log-level', 'warn'
    ],
    env: { PATH: process.env.PATH },
    cwd: dir
  }, log, watchdog)
  engine.start()
  await pollUntil('etcd healthy', async () => {
    if (!engine.running) throw new Error(`etcd exited: ${engine.lastLines(5).join(' | ')}`)
    const { status, body } = await patroniGet(clientPort, '/health')
    return status === 200 && body.includes('"true"') ? true : undefined
  }, { timeoutMs: readyTimeoutMs })
  return engine
}
