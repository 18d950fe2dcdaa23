/**
 * rabbitmq_prometheus on a node of our own cluster (doc/operations.md, "RabbitMQ"): enabled
 * from the node's own enabled_plugins file, on the port it was given, with per-queue figures
 * on /metrics; and `pnpm dev --ha --observe` scrapes it. The machine's own node is not touched.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Connection } from 'rabbitmq-client'
import t from 'tap'
import { startRabbitMqCluster, type RabbitMqCluster } from '../src/ha/index.ts'
import { findFreePorts, pollUntil } from '../src/ha/waiting.ts'
import { prometheusTargets } from '../src/observe.ts'
import { DEFAULT_PORTS } from '../src/topology.ts'

t.setTimeout(180_000)

const baseDir = await mkdtemp(path.join(tmpdir(), 'ha-rabbitmq-prometheus-'))
const [amqpPort, distPort, prometheusPort] = await findFreePorts(3)
const QUEUE = 'prometheus-test'
let cluster: RabbitMqCluster | undefined
t.teardown(async () => {
  await cluster?.stop()
  await rm(baseDir, { recursive: true, force: true })
})

t.test('a node given a prometheus port serves its queues\' figures there, and Prometheus is told to scrape it', async t => {
  cluster = await startRabbitMqCluster({
    baseDir, nodes: 1, ports: [amqpPort!], distPorts: [distPort!], prometheusPorts: [prometheusPort!], nodeNamePrefix: `promtest${process.pid}-r`
  })
  const [node] = cluster.nodes
  t.equal(node?.prometheusPort, prometheusPort)

  const connection = new Connection(node!.amqpUrl)
  const publisher = connection.createPublisher({ confirm: true })
  await connection.queueDeclare({ queue: QUEUE, durable: true })
  for (let i = 0; i < 2; i++) await publisher.send({ routingKey: QUEUE }, { i })
  await publisher.close()
  await connection.close()

  // The plugin refreshes its figures every few seconds: poll until the two messages show.
  const url = `http://127.0.0.1:${prometheusPort}/metrics`
  const ready = new RegExp(`^rabbitmq_queue_messages_ready\\{[^}]*queue="${QUEUE}"[^}]*\\} 2$`, 'm')
  const body = await pollUntil('the queue\'s figures on /metrics', async () => {
    const text = await (await fetch(url)).text()
    return ready.test(text) ? text : undefined
  }, { timeoutMs: 60_000, intervalMs: 1_000 })
  t.match(body, /^rabbitmq_identity_info\{/m, 'node-wide metrics too')

  const targets = prometheusTargets(DEFAULT_PORTS, '127.0.0.1', cluster.nodes)
  t.same(targets.filter(group => group.labels.job === 'rabbitmq'), [{ targets: [`127.0.0.1:${prometheusPort}`], labels: { job: 'rabbitmq', instance: node!.name } }])
})
