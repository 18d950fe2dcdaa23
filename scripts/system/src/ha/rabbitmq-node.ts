/**
 * The files and environment one RabbitMQ node of our cluster needs. The script in
 * /usr/lib/rabbitmq/bin is used directly: the one in /usr/sbin switches to the rabbitmq user
 * and its shared cookie, which would make our nodes talk to the machine's own node.
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { SupervisedSpec } from '../supervised-process.ts'
import { runCommand } from './waiting.ts'

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin'

export interface NodeIdentity {
  name: string
  amqpPort: number
  distPort: number
  /** rabbitmq_prometheus's port on 127.0.0.1; without one the plugin stays off. */
  prometheusPort?: number | undefined
}

export interface RabbitMqFiles {
  /** Environment for rabbitmqctl: the same HOME (so the same cookie) as the nodes. */
  cliEnv: NodeJS.ProcessEnv
  serverSpec: (node: NodeIdentity) => SupervisedSpec
}

export async function rabbitmqFiles (baseDir: string, nodes: NodeIdentity[]): Promise<RabbitMqFiles> {
  const home = path.join(baseDir, 'home')
  await mkdir(home, { recursive: true })
  await ensureCookie(path.join(home, '.erlang.cookie'))
  // /etc/rabbitmq/rabbitmq-env.conf sets the machine node's name; ours must not read it.
  const emptyEnvFile = path.join(baseDir, 'rabbitmq-env.conf')
  await writeFile(emptyEnvFile, '')
  for (const node of nodes) {
    const dir = nodeDir(baseDir, node)
    await mkdir(path.join(dir, 'log'), { recursive: true })
    // Each node reads its own file, never the machine's /etc/rabbitmq/enabled_plugins: the
    // machine's own node keeps its plugins as they are (doc/operations.md, "RabbitMQ").
    await writeFile(path.join(dir, 'enabled_plugins'), node.prometheusPort === undefined ? '[].\n' : '[rabbitmq_prometheus].\n')
    await writeFile(path.join(dir, 'rabbitmq.conf'), [
      `listeners.tcp.1 = 127.0.0.1:${node.amqpPort}`,
      // Three nodes share the machine: each may use a quarter of its memory before it blocks publishers.
      'vm_memory_high_watermark.relative = 0.25',
      ...(node.prometheusPort === undefined
        ? []
        : [
            `prometheus.tcp.port = ${node.prometheusPort}`,
            'prometheus.tcp.ip = 127.0.0.1',
            // Per-queue figures (ready, unacked, consumers) on /metrics itself, not only on /metrics/detailed.
            'prometheus.return_per_object_metrics = true'
          ]),
      ''
    ].join('\n'))
  }
  const cliEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    RABBITMQ_CONF_ENV_FILE: emptyEnvFile
  }
  return {
    cliEnv,
    serverSpec: node => {
      const dir = nodeDir(baseDir, node)
      return {
        name: shortName(node),
        exitLogSource: 'ha',
        command: path.join(RABBITMQ_BIN, 'rabbitmq-server'),
        args: [],
        cwd: dir,
        env: {
          ...cliEnv,
          RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
          RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
          RABBITMQ_NODENAME: node.name,
          RABBITMQ_NODE_PORT: String(node.amqpPort),
          RABBITMQ_DIST_PORT: String(node.distPort),
          RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
          RABBITMQ_LOG_BASE: path.join(dir, 'log'),
          ERL_EPMD_ADDRESS: '127.0.0.1',
          // Idle schedulers sleep instead of spinning: three VMs on two shared cores.
          RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none'
        }
      }
    }
  }
}

export async function rabbitmqctl (env: NodeJS.ProcessEnv, node: string, args: string[], timeoutMs?: number, input?: string): Promise<string> {
  return await runCommand(path.join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', node, ...args], { env, timeoutMs, input })
}

function nodeDir (baseDir: string, node: NodeIdentity): string {
  return path.join(baseDir, shortName(node))
}

function shortName (node: NodeIdentity): string { return node.name.replace(/@.*/, '') }

/** The cluster's own cookie, kept across starts; Erlang refuses a cookie file others can read. */
async function ensureCookie (file: string): Promise<void> {
  const existing = await readFile(file, 'utf8').catch(() => '')
  if (existing.trim() !== '') return
  await writeFile(file, randomBytes(24).toString('hex').toUpperCase(), { mode: 0o400 })
  await chmod(file, 0o400)
}
