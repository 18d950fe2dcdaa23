import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SessionEndReason } from '@orders/contracts'
import { SessionKeeper, type RefreshAnswer, type SessionKeeperOptions, type SessionState } from '../client/session.ts'

/** A server with one session: each refresh token works once, as the user-service's do. */
class FakeServer {
  issued = 0
  refreshes = 0
  inFlight = 0
  overlapped = false
  ended: SessionEndReason | undefined
  unreachable = false
  loggedOut: string[] = []
  async refresh (): Promise<RefreshAnswer> {
    this.refreshes++
    if (this.unreachable) throw new Error('offline')
    if (this.ended) return { refreshed: false, reason: this.ended }
    // Two refreshes at once with one cookie would be reuse.
    if (this.inFlight++ > 0) this.overlapped = true
    await sleep(2)
    this.inFlight--
    return { refreshed: true, token: { access_token: `t${++this.issued}`, token_type: 'Bearer', expires_in: 900 } }
  }
}

/** navigator.locks: one holder at a time. */
function fakeLocks () {
  let queue = Promise.resolve()
  return {
    request: (async (_name: string, callback: () => Promise<unknown>) => {
      const turn = queue.then(callback)
      queue = turn.then(() => {}, () => {})
      return await turn
    }) as unknown as LockManager['request']
  }
}

/** BroadcastChannel between the tabs of one test. */
function fakeChannels () {
  const members: Array<{ onmessage: ((event: MessageEvent) => void) | null }> = []
  return () => {
    const self = {
      onmessage: null as ((event: MessageEvent) => void) | null,
      postMessage (data: unknown) { for (const other of members) if (other !== self) queueMicrotask(() => other.onmessage?.({ data } as MessageEvent)) },
      close () {}
    }
    members.push(self)
    return self
  }
}

function tab (t: Test, server: FakeServer, overrides: Partial<SessionKeeperOptions> = {}) {
  const states: SessionState[] = []
  let now = Date.now()
  const keeper = new SessionKeeper({
    refresh: async () => await server.refresh(),
    whoAmI: async () => ({ email: 'ada@example.com' }),
    logout: async token => { server.loggedOut.push(token); server.ended = 'signed_out' },
    onChange: state => { states.push(state) },
    now: () => now,
    ...overrides
  })
  t.teardown(() => { keeper.close() })
  return { keeper, states, advance (ms: number) { now += ms } }
}

const login = (token: string) => ({ access_token: token, token_type: 'Bearer' as const, expires_in: 900 })

t.test('a reload restores the session from the refresh cookie', async t => {
  const server = new FakeServer()
  const { keeper, states } = tab(t, server)
  await keeper.restore()
  t.same(states, [{ kind: 'restoring' }, { kind: 'signed-in', session: { email: 'ada@example.com' } }])
  t.equal(await keeper.token(), 't1')
})

t.test('without a cookie the page is simply signed out; an ended session says why', async t => {
  const server = new FakeServer()
  server.ended = 'no_session'
  const first = tab(t, server)
  await first.keeper.restore()
  t.same(first.states.at(-1), { kind: 'signed-out', ended: undefined }, 'never signed in here: nothing to say')
  server.ended = 'reused'
  const second = tab(t, server)
  await second.keeper.restore()
  t.same(second.states.at(-1), { kind: 'signed-out', ended: 'reused' })
})

t.test('the token is refreshed before it expires, once however many ask', async t => {
  const server = new FakeServer()
  const { keeper, advance } = tab(t, server)
  keeper.signIn('ada@example.com', login('t0'))
  advance(800_000)
  t.equal(await keeper.token(), 't0', 'more than a minute left: the same token')
  advance(41_000)
  const tokens = await Promise.all([keeper.token(), keeper.token(), keeper.replace('t0')])
  t.same(tokens, ['t1', 't1', 't1'], 'within the last minute: one refresh for all')
  t.equal(server.refreshes, 1)
  t.equal(await keeper.replace('t0'), 't1', 'a 401 to an older token: the current one, no refresh')
  t.equal(await keeper.replace('t1'), 't2', 'a 401 to the current one: a refresh')
})

t.test('the timer refreshes by itself, a fifth of the lifetime early at most', async t => {
  const server = new FakeServer()
  const refreshed = new Promise<void>(resolve => { const original = server.refresh.bind(server); server.refresh = async () => { resolve(); return await original() } })
  const { keeper } = tab(t, server)
  const started = Date.now()
  keeper.signIn('ada@example.com', { ...login('t0'), expires_in: 1 })
  await refreshed
  const after = Date.now() - started
  t.ok(after >= 790 && after < 1000, `refreshed after ${after} ms of a 1000 ms token`)
})

t.test('tabs refreshing at the same moment take turns, so none presents a used token', async t => {
  const server = new FakeServer()
  const locks = fakeLocks()
  const tabs = [tab(t, server, { locks }), tab(t, server, { locks }), tab(t, server, { locks })]
  await Promise.all(tabs.map(async ({ keeper }) => { await keeper.restore() }))
  t.equal(server.refreshes, 3)
  t.notOk(server.overlapped, 'never two at once')
  t.same((await Promise.all(tabs.map(async ({ keeper }) => await keeper.token()))).sort(), ['t1', 't2', 't3'])
})

t.test('signing out ends the session on the server, here and in the other tabs', async t => {
  const server = new FakeServer()
  const channel = fakeChannels()
  const here = tab(t, server, { channel: channel() })
  const there = tab(t, server, { channel: channel() })
  await here.keeper.restore()
  await there.keeper.restore()
  t.equal(await here.keeper.signOut(), true)
  t.same(server.loggedOut, ['t1'], 'with its access token')
  t.same(here.states.at(-1), { kind: 'signed-out', ended: 'signed-out-here' })
  await sleep(1)
  t.same(there.states.at(-1), { kind: 'signed-out', ended: 'signed-out-in-another-tab' })
  t.equal(await there.keeper.token(), null)
})

t.test('a refresh refused as reuse signs out every tab, with the reason', async t => {
  const server = new FakeServer()
  const channel = fakeChannels()
  const here = tab(t, server, { channel: channel() })
  const there = tab(t, server, { channel: channel() })
  await here.keeper.restore()
  await there.keeper.restore()
  server.ended = 'reused'
  t.equal(await here.keeper.replace('t1'), null)
  t.same(here.states.at(-1), { kind: 'signed-out', ended: 'reused' })
  await sleep(1)
  t.same(there.states.at(-1), { kind: 'signed-out', ended: 'reused' })
})

t.test('when the server cannot be reached, the session stays and the refresh is tried again', async t => {
  const server = new FakeServer()
  const { keeper, states, advance } = tab(t, server)
  keeper.signIn('ada@example.com', login('t0'))
  server.unreachable = true
  advance(850_000)
  await t.rejects(keeper.token())
  t.equal(states.at(-1)?.kind, 'signed-in', 'still signed in')
  server.unreachable = false
  t.equal(await keeper.token(), 't1')
})

t.test('signing out without the server still signs out here, and says so', async t => {
  const server = new FakeServer()
  const { keeper, states } = tab(t, server, { logout: async () => { throw new Error('offline') } })
  keeper.signIn('ada@example.com', login('t0'))
  t.equal(await keeper.signOut(), false)
  t.same(states.at(-1), { kind: 'signed-out', ended: 'signed-out-here' })
})
