import t from 'tap'
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { statusChangedRoutingKey } from '@orders/contracts'
import { StatusBindings } from '../../src/notifications/status-bindings.ts'

const log = pino({ level: 'silent' })

/**
 * A broker whose every bind and unbind waits until the test settles it, so the test decides
 * what is in flight when a socket opens or closes.
 */
function heldBroker () {
  const calls: Array<{ op: 'bind' | 'unbind', routingKey: string, settle: (err?: Error) => void }> = []
  const bound = new Set<string>()
  const waiters: Array<() => void> = []
  const call = (op: 'bind' | 'unbind') => async (routingKey: string) => {
    await new Promise<void>((resolve, reject) => {
      calls.push({ op, routingKey, settle: err => { if (err) { reject(err); return } if (op === 'bind') bound.add(routingKey); else bound.delete(routingKey); resolve() } })
      waiters.splice(0).forEach(w => { w() })
    })
  }
  return {
    calls,
    bound,
    bindings: new StatusBindings({ bind: call('bind'), unbind: call('unbind'), log, bindWaitMs: 60_000 }),
    /** The next call made, once it is made. */
    async next () {
      while (calls.length === 0) await new Promise<void>(resolve => waiters.push(resolve))
      return calls.shift()!
    },
    async idle () {
      // Every run ends within a few microtasks of its last call settling.
      for (let i = 0; i < 20; i++) await Promise.resolve()
    }
  }
}

t.test("a user's first watch binds, later ones do not; the last one ending unbinds", async t => {
  const broker = heldBroker()
  const user = randomUUID()
  const first = broker.bindings.watch(user)
  const bind = await broker.next()
  t.same([bind.op, bind.routingKey], ['bind', statusChangedRoutingKey(user)])
  bind.settle()
  const endFirst = await first
  const endSecond = await broker.bindings.watch(user)
  await broker.idle()
  t.same(broker.calls, [], 'the second socket binds nothing')
  endFirst()
  endFirst()
  await broker.idle()
  t.same(broker.calls, [], 'one socket still open (and ending twice counts once)')
  endSecond()
  const unbind = await broker.next()
  t.same([unbind.op, unbind.routingKey], ['unbind', statusChangedRoutingKey(user)])
  unbind.settle()
  await broker.idle()
  t.equal(broker.bound.size, 0)
  t.equal(broker.bindings.boundUsers, 0)
})

t.test('the last socket closing while the bind is in flight: unbound after it', async t => {
  const broker = heldBroker()
  const user = randomUUID()
  const watching = broker.bindings.watch(user)
  const bind = await broker.next()
  // The upgrade gives up (the client went away) before the bind was confirmed.
  const ended = new Promise<void>(resolve => { void watching.then(end => { end(); resolve() }) })
  bind.settle()
  await ended
  const unbind = await broker.next()
  t.equal(unbind.op, 'unbind')
  unbind.settle()
  await broker.idle()
  t.same(broker.calls, [])
  t.equal(broker.bound.size, 0, 'not left bound')
})

t.test('a socket opening while the unbind is in flight: bound again after it', async t => {
  const broker = heldBroker()
  const user = randomUUID()
  const first = broker.bindings.watch(user)
  ;(await broker.next()).settle()
  ;(await first)()
  const unbind = await broker.next()
  t.equal(unbind.op, 'unbind')
  let opened = false
  const second = broker.bindings.watch(user).then(end => { opened = true; return end })
  unbind.settle()
  const bind = await broker.next()
  t.equal(bind.op, 'bind', 'bound again after the unbind')
  t.notOk(opened, 'the new socket waits for that bind')
  bind.settle()
  await second
  t.ok(broker.bound.has(statusChangedRoutingKey(user)))
  t.ok(broker.bindings.isBound(user))
})

t.test('after restore() (the queue declared afresh) every watched user is bound again, and nobody else', async t => {
  const broker = heldBroker()
  const [watched, gone] = [randomUUID(), randomUUID()]
  const watching = broker.bindings.watch(watched)
  ;(await broker.next()).settle()
  await watching
  const leaving = broker.bindings.watch(gone)
  ;(await broker.next()).settle()
  ;(await leaving)()
  ;(await broker.next()).settle()
  broker.bound.clear() // the exclusive queue went with its connection, bindings and all
  broker.bindings.restore()
  t.notOk(broker.bindings.isBound(watched), 'a new queue binds nobody')
  const rebind = await broker.next()
  t.same([rebind.op, rebind.routingKey], ['bind', statusChangedRoutingKey(watched)])
  rebind.settle()
  await broker.idle()
  t.same(broker.calls, [])
  t.ok(broker.bindings.isBound(watched))
})

t.test('a bind that completes in the old queue while restore() runs is made again in the new one', async t => {
  const broker = heldBroker()
  const user = randomUUID()
  const watching = broker.bindings.watch(user)
  const stale = await broker.next()
  broker.bindings.restore()
  stale.settle()
  const again = await broker.next()
  t.equal(again.op, 'bind')
  again.settle()
  await watching
  t.ok(broker.bindings.isBound(user))
})

t.test('a failed bind is logged and retried when the consumer is ready again; the socket is not held', async t => {
  const broker = heldBroker()
  const user = randomUUID()
  const watching = broker.bindings.watch(user)
  ;(await broker.next()).settle(new Error('channel closed'))
  await watching
  t.notOk(broker.bindings.isBound(user))
  await broker.idle()
  t.same(broker.calls, [], 'no retry loop while the broker is away')
  broker.bindings.restore()
  ;(await broker.next()).settle()
  await broker.idle()
  t.ok(broker.bindings.isBound(user))
})

t.test('a socket waits for its binding no longer than bindWaitMs', async t => {
  const bindings = new StatusBindings({ bind: async () => { await new Promise(() => {}) }, unbind: async () => {}, log, bindWaitMs: 50 })
  const end = await bindings.watch(randomUUID())
  t.type(end, 'function')
})

t.test('a user id that could be a wildcard is refused', async t => {
  const broker = heldBroker()
  await t.rejects(broker.bindings.watch('#'), /not a user id/)
  await t.rejects(broker.bindings.watch(`${randomUUID()}.*`), /not a user id/)
  t.same(broker.calls, [])
})

t.test('after stop() (shutdown) the sockets closing make no unbind: the queue goes with the connection', async t => {
  const broker = heldBroker()
  const watching = broker.bindings.watch(randomUUID())
  ;(await broker.next()).settle()
  const end = await watching
  broker.bindings.stop()
  end()
  await broker.idle()
  t.same(broker.calls, [])
})
