/**
 * startRabbitMqCluster on three nodes of our own (ports found free, so a parallel run or a
 * `pnpm dev --ha` cannot collide): one cluster, quorum queues on all three nodes, a node
 * killed with SIGKILL rejoins, and a second start reuses the data. Timings go to the log
 * (and doc/ha.md).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Connection } from 'rabbitmq-client'
import t from 'tap'
import { startRabbitMqCluster, type RabbitMqCluster, type RabbitMqClusterOptions } from '../src/ha/index.ts'
import { findFreePorts, pollUntil } from '../src/ha/waiting.ts'
import { processesUnder } from './processes.ts'

t.setTimeout(420_000)

const baseDir = await mkdtemp(path.join(tmpdir(), 'ha-rabbitmq-'))
const freePorts = await findFreePorts(6)
const output: string[] = []
const options: RabbitMqClusterOptions = {
  baseDir,
  ports: freePorts.slice(0, 3),
  distPorts: freePorts.slice(3),
  nodeNamePrefix: `hatest${process.pid}-r`,
  onLog: (source, line) => { output.push(`${source} | ${line}`) }
}
const QUEUE = 'ha-test-orders'
const QUORUM_ARGUMENTS = { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3 } as const

let cluster: RabbitMqCluster | undefined
t.teardown(async () => {
  await cluster?.stop()
  await rm(baseDir, { recursive: true, force: true })
})
t.afterEach(async t => { if (t.passing() === false) t.comment(output.slice(-40).join('\n')) })

function seconds (since: number): string { return ((Date.now() - since) / 1000).toFixed(1) }

async function withConnection<T> (url: string, use: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = new Connection({ url, retryLow: 100, retryHigh: 500 })
  try {
    await connection.onConnect(10_000, true)
    return await use(connection)
  } finally {
    await connection.close()
  }
}

const started = Date.now()
cluster = await startRabbitMqCluster(options)
t.comment(`3 nodes booted and clustered in ${seconds(started)} s`)
const names = cluster.nodes.map(node => node.name).sort()

t.test('the three nodes form one cluster', async t => {
  t.same((await cluster!.runningNodes()).sort(), names)
})

t.test('a quorum queue declared with group size 3 has a member on every node', async t => {
  await withConnection(cluster!.amqpUrls[1]!, async connection => {
    await connection.queueDeclare({ queue: QUEUE, durable: true, arguments: QUORUM_ARGUMENTS })
  })
  const status = await cluster!.quorumQueueStatus(QUEUE)
  t.same(status.members.slice().sort(), names)
  t.same(status.online.slice().sort(), names)
  t.ok(names.includes(status.leader), `led by a node of ours (${status.leader})`)
})

t.test('a node killed with SIGKILL restarts and rejoins; the queue elects another leader meanwhile', async t => {
  const victim = await cluster!.leaderOf(QUEUE)
  const killedAt = Date.now()
  await victim.kill('SIGKILL')
  const newLeader = await pollUntil('a new leader of the queue', async () => {
    const { leader } = await cluster!.quorumQueueStatus(QUEUE)
    return leader !== victim.name && leader !== '' ? leader : undefined
  }, { timeoutMs: 60_000 })
  t.comment(`queue leader moved from ${victim.name} to ${newLeader} ${seconds(killedAt)} s after the kill`)
  t.not(newLeader, victim.name)

  const restartedAt = Date.now()
  await victim.restart()
  await pollUntil(`${victim.name} back among the running nodes and the queue's online members`, async () => {
    const running = await cluster!.runningNodes()
    const { online } = await cluster!.quorumQueueStatus(QUEUE)
    return running.includes(victim.name) && online.includes(victim.name) ? true : undefined
  }, { timeoutMs: 60_000 })
  t.comment(`${victim.name} rejoined ${seconds(restartedAt)} s after its restart`)
  t.same((await cluster!.runningNodes()).sort(), names)
})

t.test('a second start on the same directory reuses the cluster and its messages', async t => {
  await withConnection(cluster!.amqpUrls[0]!, async connection => {
    const publisher = connection.createPublisher({ confirm: true })
    await publisher.send({ routingKey: QUEUE, durable: true }, 'kept across restarts')
    await publisher.close()
  })
  const stoppingAt = Date.now()
  await cluster!.stop()
  t.comment(`stopped in ${seconds(stoppingAt)} s`)
  t.notOk(cluster!.nodes.some(node => node.running), 'no node runs after stop()')
  t.same(await processesUnder(baseDir), [], 'no Erlang VM or helper of ours is left')

  const restartedAt = Date.now()
  cluster = await startRabbitMqCluster(options)
  t.comment(`second start (data reused) ready in ${seconds(restartedAt)} s`)
  t.same((await cluster.runningNodes()).sort(), names)
  t.match(output.join('\n'), /joining/, 'the first start joined the nodes')
  t.equal(output.filter(line => line.includes('joining')).length, 2, 'the second start did not join them again')
  const body = await withConnection(cluster.amqpUrls[2]!, async connection => {
    const message = await connection.basicGet({ queue: QUEUE, noAck: true })
    return message?.body
  })
  t.equal(String(body), 'kept across restarts')
})
