import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { LIVE_STATUS_CLOSE_CODES, liveStatusUrl } from '@orders/contracts/live-status'
import { OrderFeed, reconnectDelayMs, type FeedState, type OrderFeedOptions, type SocketLike } from '../client/order-feed.ts'

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  closedWith: number | undefined
  constructor (readonly url: string) {}
  open () { this.onopen?.({} as Event) }
  send (data: unknown) { this.onmessage?.({ data } as MessageEvent) }
  drop (code: number) { this.onclose?.({ code } as CloseEvent) }
  close (code?: number) { this.closedWith = code }
}

/** A feed on fake sockets, whose session hands out t1, t2, … (a newer one when asked to replace). */
async function feed (overrides: Partial<OrderFeedOptions> = {}) {
  const sockets: FakeSocket[] = []
  const seen: string[] = []
  const states: FeedState[] = []
  let issued = 1
  const instance = new OrderFeed({
    url: token => `ws://app/orders/ws?access_token=${token}`,
    accessToken: async rejected => {
      if (rejected !== undefined) { seen.push(`replace ${rejected}`); issued++ }
      return `t${issued}`
    },
    createSocket: url => { const s = new FakeSocket(url); sockets.push(s); return s },
    reconnectDelayMs: () => 0,
    onOrder: order => { seen.push(`order ${order.id} ${order.status}`) },
    onConnected: () => { seen.push('connected') },
    onConnectFailed: () => { seen.push('connect failed') },
    onStateChange: state => { states.push(state) },
    ...overrides
  })
  instance.start()
  await sleep(1)
  return { instance, sockets, seen, states }
}

t.test('status changes are passed on; anything else the server sends is ignored', async t => {
  const { sockets, seen } = await feed()
  sockets[0]!.open()
  sockets[0]!.send(JSON.stringify({ type: 'order.status_changed', order: { id: 'o1', status: 'completed' } }))
  sockets[0]!.send('not json')
  sockets[0]!.send(JSON.stringify({ type: 'something.else' }))
  sockets[0]!.send(JSON.stringify({ type: 'order.status_changed', order: null }))
  sockets[0]!.send('null')
  t.same(seen, ['connected', 'order o1 completed'])
})

t.test('a dropped socket (1006, 1001, 1008 too slow) reconnects and reports the reconnect, to resynchronise', async t => {
  const { sockets, seen, states } = await feed()
  sockets[0]!.open()
  sockets[0]!.drop(LIVE_STATUS_CLOSE_CODES.slowConsumer)
  await sleep(5)
  t.equal(sockets.length, 2)
  sockets[1]!.open()
  sockets[1]!.drop(1006)
  await sleep(5)
  sockets[2]!.open()
  t.same(seen, ['connected', 'connected', 'connected'])
  t.same(states, ['connecting', 'live', 'reconnecting', 'reconnecting', 'live', 'reconnecting', 'reconnecting', 'live'])
})

t.test('4401: the token expired or was revoked; the feed reconnects with a newer one', async t => {
  const { sockets, seen } = await feed()
  t.equal(sockets[0]!.url, 'ws://app/orders/ws?access_token=t1')
  sockets[0]!.open()
  sockets[0]!.drop(LIVE_STATUS_CLOSE_CODES.tokenExpired)
  await sleep(5)
  t.equal(sockets.length, 2)
  t.equal(sockets[1]!.url, 'ws://app/orders/ws?access_token=t2', 'with the new token')
  sockets[1]!.open()
  t.same(seen, ['connected', 'replace t1', 'connected'])
  sockets[1]!.drop(1006)
  await sleep(5)
  t.equal(sockets[2]!.url, 'ws://app/orders/ws?access_token=t2', 'another drop keeps the token')
})

t.test('when the session has no token any more, the feed stops', async t => {
  const { sockets, states } = await feed({ accessToken: async rejected => (rejected === undefined ? 't1' : null) })
  sockets[0]!.open()
  sockets[0]!.drop(LIVE_STATUS_CLOSE_CODES.tokenExpired)
  await sleep(5)
  t.equal(sockets.length, 1, 'no reconnect without a token')
  t.equal(states.at(-1), 'stopped')
})

t.test('when no token can be had for now (the server is unreachable), it tries again', async t => {
  let calls = 0
  const { sockets } = await feed({ accessToken: async () => { if (++calls === 1) throw new Error('offline'); return 't1' } })
  await sleep(5)
  t.equal(calls, 2)
  t.equal(sockets.length, 1)
})

t.test('an attempt that never opened is reported (the app then checks the token) and retried', async t => {
  const { sockets, seen } = await feed()
  sockets[0]!.drop(1006)
  await sleep(5)
  t.same(seen, ['connect failed'])
  t.equal(sockets.length, 2)
})

t.test('stop closes the socket and nothing reconnects afterwards', async t => {
  const { instance, sockets } = await feed()
  sockets[0]!.open()
  instance.stop()
  t.equal(sockets[0]!.closedWith, 1000)
  sockets[0]!.drop(1000)
  await sleep(5)
  t.equal(sockets.length, 1)
})

t.test('the backoff doubles from about half a second up to 15 s, with jitter', async t => {
  t.equal(reconnectDelayMs(0, () => 0), 250)
  t.equal(reconnectDelayMs(0, () => 1), 500)
  t.equal(reconnectDelayMs(3, () => 1), 4000)
  t.equal(reconnectDelayMs(20, () => 1), 15_000)
  t.equal(reconnectDelayMs(20, () => 0), 7500)
})

t.test('the socket URL: same host, ws or wss as the page, the token in the query', async t => {
  t.equal(liveStatusUrl('http://127.0.0.1:8080', 'a.b.c'), 'ws://127.0.0.1:8080/orders/ws?access_token=a.b.c')
  t.equal(liveStatusUrl('https://shop.example', 'a.b-_c'), 'wss://shop.example/orders/ws?access_token=a.b-_c')
})
