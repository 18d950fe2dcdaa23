/**
 * Owns its system: it stops an order-service replica for good, which the flows sharing the
 * system in platform.test.ts must not find.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { call, registerAndLogin, startTestSystem, waitForOrderStatus } from './system-helper.ts'

t.test('an order-service replica stopped with SIGTERM under load: no request fails, no order is lost', async t => {
  const { system, gateway, db } = await startTestSystem(t)
  const { user, token } = await registerAndLogin(gateway, `drain-${randomUUID()}@example.com`)

  const answers: Array<{ status: number, id?: string }> = []
  let stopLoad = false
  // Four clients placing orders one after another, through the gateway, until told to stop.
  const clients = Array.from({ length: 4 }, async (_, client) => {
    for (let i = 0; !stopLoad; i++) {
      const res = await call(`${gateway}/orders`, { method: 'POST', token, headers: { 'idempotency-key': `drain-${client}-${i}` }, body: { items: [{ sku: 'D', quantity: 1, unit_price: 10 }] } })
      answers.push({ status: res.status, id: res.body?.id })
    }
  })
  const placed = async (n: number) => { while (answers.length < n) await new Promise(resolve => setTimeout(resolve, 10)) }

  await placed(20)
  const replica = system.processes.get('order-service-1')!
  await replica.stop() // SIGTERM; resolves when the process has exited
  t.equal(replica.running, false)
  const atStop = answers.length
  await placed(atStop + 20)
  stopLoad = true
  await Promise.all(clients)

  const failed = answers.filter(a => a.status !== 201)
  t.same(failed, [], `all ${answers.length} orders were accepted (201)`)
  const finalStatuses = new Map<string, string>()
  for (const { id } of answers) finalStatuses.set(id!, (await waitForOrderStatus(gateway, token, id!, ['completed', 'failed'])).order.status)
  t.same([...new Set(finalStatuses.values())], ['completed'], `all ${answers.length} orders completed`)
  const stored = await db.withSchema('orders').selectFrom('orders').select(eb => eb.fn.countAll<string>().as('count'))
    .where('user_id', '=', user.id).executeTakeFirstOrThrow()
  t.equal(Number(stored.count), answers.length, 'one stored order per accepted request, none twice')
  t.equal(finalStatuses.size, answers.length, 'every answer named a different order')
})
