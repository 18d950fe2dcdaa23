/**
 * The signed-in person, shared by every page: the session, signing in and out, the live
 * order feed while signed in, and a one-off notice for the next page ("Order placed",
 * "Your session has expired").
 */
import { createContext, type ComponentChildren } from 'preact'
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import type { Order } from '@orders/contracts'
import { liveStatusUrl } from '@orders/contracts/live-status'
import { api, whenTokenRejected } from './api.ts'
import { OrderFeed, type FeedState } from './order-feed.ts'
import { loadSession, storeSession, type Session } from './session.ts'

export type LiveEvent = { kind: 'order', order: Order } | { kind: 'connected' }
type LiveListener = (event: LiveEvent) => void

interface SessionContextValue {
  session: Session | null
  signIn: (session: Session) => void
  /** `expired`: back to the sign-in page with a message saying why. */
  signOut: (reason?: 'expired') => void
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

export const SESSION_EXPIRED_NOTICE = 'Your session has expired. Please sign in again.'


export function SessionProvider ({ children }: { children: ComponentChildren }) {
  const { route } = useLocation()
  const [session, setSession] = useState<Session | null>(() => loadSession())
  const [notice, setNotice] = useState<string | null>(null)
  const [returnTo, setReturnTo] = useState<string | null>(null)
  const [lastEmail, setLastEmail] = useState<string | null>(null)
  const [feedState, setFeedState] = useState<FeedState>('stopped')
  const listeners = useRef(new Set<LiveListener>())
  const sessionRef = useRef(session)
  sessionRef.current = session

  const signIn = useCallback((next: Session) => {
    sessionRef.current = next
    storeSession(next)
    setSession(next)
  }, [])

  // Stable for the whole visit, so the feed below is not reopened on every navigation.
  const routeRef = useRef(route)
  routeRef.current = route
  const signOut = useCallback((reason?: 'expired') => {
    // Several requests can learn of an expired token at once; the first one signs out.
    if (sessionRef.current === null) return
    setLastEmail(sessionRef.current.email)
    sessionRef.current = null
    storeSession(null)
    setSession(null)
    setNotice(reason === 'expired' ? SESSION_EXPIRED_NOTICE : 'You have signed out.')
    if (reason === 'expired') setReturnTo(location.pathname)
    routeRef.current('/sign-in')
  }, [])

  // Any 401 to a request that carried the token: it is no longer good.
  useEffect(() => { whenTokenRejected(() => { signOut('expired') }) }, [signOut])

  // While signed in: sign out when the token expires, and keep the live feed open.
  useEffect(() => {
    if (session === null) return
    const expiry = setTimeout(() => { signOut('expired') }, Math.max(0, session.expiresAt - Date.now()))
    const emit = (event: LiveEvent) => { for (const listener of listeners.current) listener(event) }
    const feed = new OrderFeed({
      url: liveStatusUrl(location.origin, session.token),
      onOrder: order => { emit({ kind: 'order', order }) },
      onConnected: () => { emit({ kind: 'connected' }) },
      onTokenExpired: () => { signOut('expired') },
      // A refused upgrade looks like any other drop; a cheap request tells whether the token
      // is the reason (a 401 signs out through whenTokenRejected).
      onConnectFailed: () => { api.listOrders(session.token, { limit: 1 }).catch(() => {}) },
      onStateChange: setFeedState
    })
    feed.start()
    const online = () => { feed.reconnectNow() }
    addEventListener('online', online)
    return () => {
      clearTimeout(expiry)
      removeEventListener('online', online)
      feed.stop()
    }
  }, [session, signOut])

  const subscribe = useCallback((listener: LiveListener) => {
    listeners.current.add(listener)
    return () => { listeners.current.delete(listener) }
  }, [])

  const value = useMemo(() => ({ session, signIn, signOut, notice, setNotice, lastEmail, returnTo, setReturnTo, feedState, subscribe }),
    [session, signIn, signOut, notice, lastEmail, returnTo, feedState, subscribe])
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
