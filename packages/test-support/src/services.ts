import { execFile } from 'node:child_process'
import type { Rabbitmqctl } from '@orders/platform'

export interface ServiceUrls {
  databaseUrl: string
  amqpUrl: string
  /** Runs rabbitmqctl where the broker is: on this machine, or inside its container; `input` goes to its standard input. */
  rabbitmqctl: Rabbitmqctl
}

let resolved: Promise<ServiceUrls> | undefined

/**
 * Where the tests' PostgreSQL and RabbitMQ are. DATABASE_URL / AMQP_URL win; on this kind of
 * machine both servers run locally, so localhost is the default. testcontainers is the
 * fallback only when neither variable is set, nothing answers locally and a Docker engine does.
 */
export async function resolveServiceUrls (): Promise<ServiceUrls> {
  resolved ??= resolve()
  return await resolved
}

async function resolve (): Promise<ServiceUrls> {
  const local = {
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    rabbitmqctl: localRabbitmqctl
  }
  if (process.env.DATABASE_URL || process.env.AMQP_URL) return local
  if (await reachable(5432) && await reachable(5672)) return local
  return await startContainers()
}

async function localRabbitmqctl (args: string[], input?: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile('rabbitmqctl', ['-q', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`rabbitmqctl ${args.join(' ')}: ${stderr.trim() || stdout.trim() || err.message}`))
      else resolve(stdout)
    })
    child.stdin?.end(input ?? '')
  })
}

async function reachable (port: number): Promise<boolean> {
  const net = await import('node:net')
  return await new Promise(resolve => {
    const socket = net.connect({ host: '127.0.0.1', port, timeout: 1000 })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

async function startContainers (): Promise<ServiceUrls> {
  const { GenericContainer, Wait } = await import('testcontainers')
  const postgres = await new GenericContainer('postgres:15')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
    .start()
  const rabbit = await new GenericContainer('rabbitmq:3.10')
    .withExposedPorts(5672)
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
    .start()
  return {
    databaseUrl: `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
    amqpUrl: `amqp://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(5672)}`,
    async rabbitmqctl (args, input) {
      // exec takes no standard input: the input travels base64-encoded through a shell.
      const command = input === undefined
        ? ['rabbitmqctl', '-q', ...args]
        : ['sh', '-c', `echo ${Buffer.from(input).toString('base64')} | base64 -d | rabbitmqctl -q ${args.join(' ')}`]
      const { output, exitCode } = await rabbit.exec(command)
      if (exitCode !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${output}`)
      return output
    }
  }
}
