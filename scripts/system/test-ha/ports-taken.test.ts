/**
 * A port already taken (a parallel run, a `pnpm dev --ha` still running) fails the start at
 * once with a message naming the port and its use, before any engine is started.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startPostgresHa, startRabbitMqCluster } from '../src/ha/index.ts'
import { findFreePorts } from '../src/ha/waiting.ts'

const baseDir = await mkdtemp(path.join(tmpdir(), 'ha-ports-'))
const taken = net.createServer()
await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
const takenPort = (taken.address() as net.AddressInfo).port
t.teardown(async () => {
  await new Promise(resolve => taken.close(resolve))
  await rm(baseDir, { recursive: true, force: true })
})

t.test('the RabbitMQ cluster names the taken AMQP port', async t => {
  const [a, b, ...dist] = await findFreePorts(5)
  await t.rejects(
    startRabbitMqCluster({ baseDir: path.join(baseDir, 'rabbitmq'), ports: [a!, takenPort, b!], distPorts: dist }),
    { message: new RegExp(`ports already in use: ${takenPort} \\(orders-r2@localhost AMQP\\)`) }
  )
  t.same(await readdir(baseDir), [], 'nothing was created')
})

t.test('PostgreSQL HA names the taken HAProxy port', async t => {
  const [client, peer, pg1, pg2, rest1, rest2] = await findFreePorts(6)
  await t.rejects(
    startPostgresHa({ baseDir: path.join(baseDir, 'postgres'), port: takenPort, etcdPorts: { client: client!, peer: peer! }, pgPorts: [pg1!, pg2!], restPorts: [rest1!, rest2!] }),
    { message: new RegExp(`ports already in use: ${takenPort} \\(HAProxy for PostgreSQL\\)`) }
  )
  t.same(await readdir(baseDir), [], 'nothing was created')
})
