/**
 * A RabbitMQ cluster of our own, run from the machine's rabbitmq-server (Debian): nodes with
 * their own Erlang cookie, data and logs under `baseDir`, AMQP on 127.0.0.1 only. The machine's
 * own node (rabbit@<host>, 5672) is never addressed: every rabbitmqctl call names one of ours.
 * A second start on the same baseDir finds the nodes already clustered and reuses their data.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Rabbitmqctl } from '@orders/platform'
import { ENGINE_STOP_GRACE_MS, SupervisedProcess, type LogLine } from '../supervised-process.ts'
import { startWatchdog } from '../watchdog.ts'
import { rabbitmqFiles, rabbitmqctl, type NodeIdentity } from './rabbitmq-node.ts'
import { assertPortsFree, pollUntil } from './waiting.ts'

export const DEFAULT_RABBITMQ_PORTS: readonly number[] = [5681, 5682, 5683]
/** rabbitmq_prometheus of the default cluster: AMQP port + 10000, not the plugin's 15692 a machine's own node may use. */
export const DEFAULT_RABBITMQ_PROMETHEUS_PORTS: readonly number[] = [15681, 15682, 15683]

export interface RabbitMqClusterOptions {
  /** Holds the cookie, and each node's data and logs (created if missing). */
  baseDir: string
  /** Default 3. */
  nodes?: number
  /** AMQP ports, one per node (default 5681, 5682, 5683). */
  ports?: readonly number[]
  /** Erlang distribution ports, one per node (default: AMQP port + 20000, as RabbitMQ does). */
  distPorts?: readonly number[]
  /**
   * rabbitmq_prometheus's ports (127.0.0.1), one per node. Default: DEFAULT_RABBITMQ_PROMETHEUS_PORTS
   * with the default AMQP ports; none (plugin off) with other AMQP ports (tests and chaos pick
   * free ones, and a fixed prometheus port could be taken).
   */
  prometheusPorts?: readonly number[]
  /** Node names are `<prefix><n>@localhost` (default "orders-r"): unique on the machine, as epmd is shared. */
  nodeNamePrefix?: string
  onLog?: LogLine
  /** A node died without being asked to (kill() is asking); an orchestrator would restart it. */
  onUnexpectedExit?: (node: RabbitMqNode) => void
  /** For boot, each join and each restart (default 120 s: three nodes boot in ~30 s on 2 cores). */
  readyTimeoutMs?: number
}

export interface RabbitMqNode {
  /** `<prefix><n>@localhost` */
  readonly name: string
  readonly amqpPort: number
  readonly amqpUrl: string
  /** Where its rabbitmq_prometheus serves /metrics, when enabled. */
  readonly prometheusPort: number | undefined
  readonly running: boolean
  readonly pid: number | undefined
  /** Sends `signal` (default SIGKILL) to the node's process group; resolves when it has exited. */
  kill: (signal?: NodeJS.Signals) => Promise<void>
  /** Starts it again (it rejoins the cluster on its own) and waits until it has booted. */
  restart: () => Promise<void>
  lastLines: (count?: number) => string[]
}

export interface QuorumQueueStatus { leader: string, members: string[], online: string[] }

export interface RabbitMqCluster {
  /** amqp://guest:guest@127.0.0.1:<port>, one per node, in node order: the cluster's administrator. */
  amqpUrls: string[]
  nodes: RabbitMqNode[]
  /** rabbitmqctl on a running node (what the launcher sets the services' users up with). */
  rabbitmqctl: Rabbitmqctl
  /** The running nodes as one of them sees them. */
  runningNodes: () => Promise<string[]>
  /** Leader and members of a quorum queue, from a running node. */
  quorumQueueStatus: (queue: string, vhost?: string) => Promise<QuorumQueueStatus>
  leaderOf: (queue: string, vhost?: string) => Promise<RabbitMqNode>
  /** The node a classic queue lives on; `queue` may be a name's prefix (an exclusive queue's random suffix). */
  nodeOfClassicQueue: (queue: string, vhost?: string) => Promise<RabbitMqNode>
  /** Stops every node (SIGTERM: a clean shutdown) and resolves when all have exited. */
  stop: () => Promise<void>
}

export async function startRabbitMqCluster (options: RabbitMqClusterOptions): Promise<RabbitMqCluster> {
  const count = options.nodes ?? 3
  const ports = options.ports ?? DEFAULT_RABBITMQ_PORTS
  const distPorts = options.distPorts ?? ports.map(port => port + 20_000)
  if (ports.length !== count || distPorts.length !== count) throw new Error(`startRabbitMqCluster: ${count} nodes need ${count} ports and ${count} distribution ports`)
  const prefix = options.nodeNamePrefix ?? 'orders-r'
  const baseDir = path.resolve(options.baseDir)
  const log = options.onLog ?? (() => {})
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000
  const defaultPorts = ports.length === DEFAULT_RABBITMQ_PORTS.length && ports.every((port, i) => port === DEFAULT_RABBITMQ_PORTS[i])
  const prometheusPorts = options.prometheusPorts ?? (defaultPorts ? DEFAULT_RABBITMQ_PROMETHEUS_PORTS : [])
  const identities: NodeIdentity[] = ports.map((amqpPort, i) => ({ name: `${prefix}${i + 1}@localhost`, amqpPort, distPort: distPorts[i] ?? amqpPort + 20_000, prometheusPort: prometheusPorts[i] }))
  await assertPortsFree(
    identities.flatMap(({ name, amqpPort, distPort, prometheusPort }) => [{ port: amqpPort, use: `${name} AMQP` }, { port: distPort, use: `${name} distribution` },
      ...(prometheusPort === undefined ? [] : [{ port: prometheusPort, use: `${name} rabbitmq_prometheus` }])]),
    'Is another `pnpm dev --ha` or HA test running? Stop it, or pass other ports.'
  )
  await mkdir(baseDir, { recursive: true })

  const files = await rabbitmqFiles(baseDir, identities)
  const watchdog = startWatchdog({ graceMs: ENGINE_STOP_GRACE_MS })
  const engines: SupervisedProcess[] = []
  const ctl = async (node: string, args: string[], timeoutMs?: number): Promise<string> => await rabbitmqctl(files.cliEnv, node, args, timeoutMs)
  const awaitBoot = async (node: string): Promise<void> => {
    await pollUntil(`RabbitMQ node ${node} booted`, async () => {
      await ctl(node, ['await_startup', '--timeout', '30'], 40_000)
      return true
    }, { timeoutMs: readyTimeoutMs, intervalMs: 500 })
  }

  const nodes: RabbitMqNode[] = identities.map(identity => {
    const engine = new SupervisedProcess(files.serverSpec(identity), log, watchdog)
    engines.push(engine)
    const node: RabbitMqNode = {
      name: identity.name,
      amqpPort: identity.amqpPort,
      amqpUrl: `amqp://guest:guest@127.0.0.1:${identity.amqpPort}`,
      prometheusPort: identity.prometheusPort,
      get running () { return engine.running },
      get pid () { return engine.pid },
      kill: async (signal = 'SIGKILL') => { engine.kill(signal); await engine.waitForExit() },
      restart: async () => {
        if (engine.running) await engine.stop()
        log('ha', `restarting RabbitMQ node ${identity.name}`)
        engine.start()
        await awaitBoot(identity.name)
      },
      lastLines: count => engine.lastLines(count)
    }
    engine.onUnexpectedExit = () => { options.onUnexpectedExit?.(node) }
    return node
  })

  const stop = async (): Promise<void> => {
    await Promise.all(engines.map(async engine => { await engine.stop() }))
    await watchdog.close()
  }

  const anyRunning = (): RabbitMqNode => {
    const node = nodes.find(candidate => candidate.running)
    if (node === undefined) throw new Error('no RabbitMQ node of the cluster is running')
    return node
  }

  const quorumQueueStatus = async (queue: string, vhost = '/'): Promise<QuorumQueueStatus> => {
    const out = await ctl(anyRunning().name, ['list_queues', '-p', vhost, 'name', 'type', 'leader', 'members', 'online', '--formatter', 'json'])
    const found = (JSON.parse(out) as Array<{ name: string, type: string, leader: string, members: string[], online: string[] }>)
      .find(entry => entry.name === queue)
    if (found === undefined) throw new Error(`no queue ${queue} in vhost ${vhost}`)
    if (found.type !== 'quorum') throw new Error(`queue ${queue} is a ${found.type} queue, not a quorum queue`)
    return { leader: found.leader, members: found.members, online: found.online }
  }

  try {
    log('ha', `starting RabbitMQ nodes ${identities.map(identity => identity.name).join(', ')} in ${baseDir}`)
    // All at once: on a second start each node waits in its boot for the peers it was
    // clustered with, so starting them one by one would stall.
    for (const engine of engines) engine.start()
    await Promise.all(identities.map(async identity => { await awaitBoot(identity.name) }))
    const [first, ...others] = identities.map(identity => identity.name)
    for (const name of others) {
      const status = JSON.parse(await ctl(name, ['cluster_status', '--formatter', 'json'])) as { disk_nodes?: string[] }
      if (first === undefined || status.disk_nodes?.includes(first) === true) continue
      log('ha', `joining ${name} to ${first}`)
      await ctl(name, ['stop_app'])
      await ctl(name, ['join_cluster', first])
      await ctl(name, ['start_app'], readyTimeoutMs)
    }
    log('ha', `RabbitMQ cluster ready: AMQP on ${ports.join(', ')}`)
  } catch (err) {
    const details = nodes.map(node => `${node.name}:\n  ${node.lastLines(8).join('\n  ')}`).join('\n')
    await stop()
    throw new Error(`${(err as Error).message}\nlast output of the nodes:\n${details}\n(logs in ${baseDir}/<node>/log)`)
  }

  return {
    amqpUrls: nodes.map(node => node.amqpUrl),
    nodes,
    rabbitmqctl: async (args, input) => await rabbitmqctl(files.cliEnv, anyRunning().name, ['-q', ...args], undefined, input),
    runningNodes: async () => {
      const status = JSON.parse(await ctl(anyRunning().name, ['cluster_status', '--formatter', 'json'])) as { running_nodes: string[] }
      return status.running_nodes
    },
    quorumQueueStatus,
    leaderOf: async (queue, vhost) => {
      const { leader } = await quorumQueueStatus(queue, vhost)
      const node = nodes.find(candidate => candidate.name === leader)
      if (node === undefined) throw new Error(`queue ${queue} is led by ${leader}, not a node of this cluster`)
      return node
    },
    nodeOfClassicQueue: async (queue, vhost = '/') => {
      // The table format, not JSON: JSON prints a pid as #PID<12767.1750.0>, without its node's
      // name; the table prints <node.N.N.N>. Queue names hold no tabs.
      const out = await ctl(anyRunning().name, ['list_queues', '-p', vhost, '--silent', 'name', 'pid'])
      const found = out.split('\n').map(line => line.split('\t')).map(([name = '', pid = '']) => ({ name, pid })).find(entry => entry.name.startsWith(queue))
      if (found === undefined) throw new Error(`no queue named ${queue}… in vhost ${vhost}`)
      const node = nodes.find(candidate => found.pid.startsWith(`<${candidate.name}.`))
      if (node === undefined) throw new Error(`queue ${found.name} lives on ${found.pid}, not a node of this cluster`)
      return node
    },
    stop
  }
}
