/**
 * The signed-in person, shared by every page: the session (kept by SessionKeeper, session.ts),
 * signing in and out, the live order feed while signed in, and a one-off notice for the next
 * page ("Order placed", "Your session has expired").
 */
import { createContext, type ComponentChildren } from 'preact'
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import type { Order } from '@orders/contracts'
import { liveStatusUrl } from '@orders/contracts/live-status'
import { api, type AccessTokens } from './api.ts'
import { SESSION_END_NOTICES } from './api-errors.ts'
import { OrderFeed, type FeedState } from './order-feed.ts'
import { SessionKeeper, type Session, type SessionEnd, type SessionState } from './session.ts'

export type LiveEvent = { kind: 'order', order: Order } | { kind: 'connected' }
type LiveListener = (event: LiveEvent) => void

interface SessionContextValue {
  session: Session | null
  /** True while a reload's session is being restored (from the refresh cookie). */
  restoring: boolean
  /** Where API calls get the access token. */
  tokens: AccessTokens
  signIn: (email: string, login: Parameters<SessionKeeper['signIn']>[1]) => void
  signOut: () => void
  /** A message for the next page to show once (then cleared). */
  notice: string | null
  setNotice: (notice: string | null) => void
  /** The email of whoever signed out last, to fill in on the sign-in page. */
  lastEmail: string | null
  /** Where a signed-out person was going, to return there after signing in. */
  returnTo: string | null
  setReturnTo: (path: string | null) => void
  feedState: FeedState
  subscribe: (listener: LiveListener) => () => void
}

const SessionContext = createContext<SessionContextValue | null>(null)

/** The sentence for a session that ended; none for one that never began here. */
function endNotice (ended: SessionEnd): string {
  switch (ended) {
    case 'signed-out-here': return 'You have signed out.'
    case 'signed-out-in-another-tab':
    case 'signed_out': return SESSION_END_NOTICES.signedOutElsewhere
    case 'reused': return SESSION_END_NOTICES.reused
    case 'revoked': return SESSION_END_NOTICES.revoked
    case 'unreachable': return SESSION_END_NOTICES.unreachable
    default: return SESSION_END_NOTICES.expired
  }
}

export function SessionProvider ({ children }: { children: ComponentChildren }) {
  const { route } = useLocation()
  const [state, setState] = useState<SessionState>({ kind: 'restoring' })
  const [notice, setNotice] = useState<string | null>(null)
  const [returnTo, setReturnTo] = useState<string | null>(null)
  const [lastEmail, setLastEmail] = useState<string | null>(null)
  const [feedState, setFeedState] = useState<FeedState>('stopped')
  const listeners = useRef(new Set<LiveListener>())
  // Stable for the whole visit, so the keeper and the feed are not rebuilt on every navigation.
  const routeRef = useRef(route)
  routeRef.current = route
  const sessionRef = useRef<Session | null>(null)

  const keeper = useMemo(() => new SessionKeeper({
    refresh: api.refresh,
    whoAmI: async token => ({ email: (await api.whoAmI(token)).email }),
    logout: api.logout,
    locks: navigator.locks,
    channel: typeof BroadcastChannel === 'function' ? new BroadcastChannel('orders-session') : undefined,
    onChange: next => {
      const previous = sessionRef.current
      sessionRef.current = next.kind === 'signed-in' ? next.session : null
      setState(next)
      if (next.kind !== 'signed-out' || next.ended === undefined) return
      setNotice(endNotice(next.ended))
      // A reload that found the session over: the page's guard sends the person to sign in, and back.
      if (previous === null) return
      setLastEmail(previous.email)
      // Signed out by something else than the person here: back to this page after signing in.
      if (next.ended !== 'signed-out-here') setReturnTo(location.pathname)
      routeRef.current('/sign-in')
    }
  }), [])

  useEffect(() => {
    void keeper.restore()
    // A tab that slept (timers paused) or was offline may hold a token that ran out meanwhile.
    const wake = () => { if (document.visibilityState === 'visible') keeper.wake() }
    document.addEventListener('visibilitychange', wake)
    addEventListener('online', wake)
    addEventListener('focus', wake)
    return () => {
      document.removeEventListener('visibilitychange', wake)
      removeEventListener('online', wake)
      removeEventListener('focus', wake)
      keeper.close()
    }
  }, [keeper])

  const session = state.kind === 'signed-in' ? state.session : null
  const signIn = useCallback((email: string, login: Parameters<SessionKeeper['signIn']>[1]) => { keeper.signIn(email, login) }, [keeper])
  const signOut = useCallback(() => {
    void keeper.signOut().then(reached => {
      if (!reached) setNotice('You are signed out on this device, but the server could not be reached: sign out again once you are online to end the session.')
    })
  }, [keeper])

  // While signed in, keep the live feed open; it takes the current token at every (re)connect.
  const signedIn = session !== null
  useEffect(() => {
    if (!signedIn) return
    const emit = (event: LiveEvent) => { for (const listener of listeners.current) listener(event) }
    const feed = new OrderFeed({
      url: token => liveStatusUrl(location.origin, token),
      accessToken: async rejected => await (rejected === undefined ? keeper.token() : keeper.replace(rejected)),
      onOrder: order => { emit({ kind: 'order', order }) },
      onConnected: () => { emit({ kind: 'connected' }) },
      // A refused upgrade looks like any other drop; a cheap request tells whether the token is
      // the reason (its 401 gets a new token, or ends the session).
      onConnectFailed: () => { api.listOrders(keeper, { limit: 1 }).catch(() => {}) },
      onStateChange: setFeedState
    })
    feed.start()
    const online = () => { feed.reconnectNow() }
    addEventListener('online', online)
    return () => {
      removeEventListener('online', online)
      feed.stop()
    }
  }, [signedIn, keeper])

  const subscribe = useCallback((listener: LiveListener) => {
    listeners.current.add(listener)
    return () => { listeners.current.delete(listener) }
  }, [])

  const value = useMemo(() => ({
    session, restoring: state.kind === 'restoring', tokens: keeper, signIn, signOut, notice, setNotice, lastEmail, returnTo, setReturnTo, feedState, subscribe
  }), [state, session, keeper, signIn, signOut, notice, lastEmail, returnTo, feedState, subscribe])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

export function useSession (): SessionContextValue {
  const value = useContext(SessionContext)
  if (value === null) throw new Error('useSession outside SessionProvider')
  return value
}

/** Calls `listener` for every live event while the component is mounted. */
export function useLiveOrders (listener: LiveListener): void {
  const { subscribe } = useSession()
  const latest = useRef(listener)
  latest.current = listener
  useEffect(() => subscribe(event => { latest.current(event) }), [subscribe])
}

/** The notice left for this page, shown once. */
export function useNotice (): string | null {
  const { notice, setNotice } = useSession()
  const [shown] = useState(notice)
  useEffect(() => { if (notice !== null) setNotice(null) }, [])
  return shown
}
