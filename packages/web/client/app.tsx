/**
 * The app's pages and the frame around them. Page paths must stay clear of the paths the
 * gateway sends to the API (/users, /login, /logout, /oauth, /orders, /.well-known — see haproxy.cfg):
 * a reload of /orders would otherwise land on the order-service instead of this app.
 */
import type { ComponentType } from 'preact'
import { useEffect } from 'preact/hooks'
import { LocationProvider, Route, Router, useLocation } from 'preact-iso'
import { NewOrderPage } from './pages/new-order.tsx'
import { NotFoundPage } from './pages/not-found.tsx'
import { OrderDetailPage } from './pages/order-detail.tsx'
import { OrdersListPage } from './pages/orders-list.tsx'
import { RegisterPage } from './pages/register.tsx'
import { SignInPage } from './pages/sign-in.tsx'
import type { FeedState } from './order-feed.ts'
import { SessionProvider, useSession } from './session-context.tsx'

export function App () {
  return (
    <LocationProvider>
      <SessionProvider>
        <a class="skip-link" href="#main">Skip to content</a>
        <Header />
        <main id="main" tabIndex={-1}>
          <Router>
            <Route path="/" component={MyOrders} />
            <Route path="/new-order" component={NewOrder} />
            <Route path="/my-orders/:id" component={OrderDetail} />
            <Route path="/sign-in" component={SignIn} />
            <Route path="/register" component={Register} />
            <Route default component={NotFoundPage} />
          </Router>
        </main>
      </SessionProvider>
    </LocationProvider>
  )
}

const FEED_STATE_TEXT: Record<FeedState, string> = {
  connecting: 'Connecting for live updates…',
  live: 'Live updates on',
  reconnecting: 'Live updates interrupted; reconnecting…',
  stopped: ''
}

function Header () {
  const { session, signOut, feedState } = useSession()
  const { path } = useLocation()
  return (
    <header class="site-header">
      <a class="site-header__name" href="/">Orders</a>
      {session && (
        <nav aria-label="Main">
          <a href="/" aria-current={path === '/' ? 'page' : undefined}>My orders</a>
          <a href="/new-order" aria-current={path === '/new-order' ? 'page' : undefined}>Place an order</a>
        </nav>
      )}
      {session && (
        <div class="site-header__account">
          <span class="site-header__email">{session.email}</span>
          <button type="button" class="button button--quiet" onClick={() => { signOut() }}>Sign out</button>
        </div>
      )}
      {session && <p class={`feed-state feed-state--${feedState}`} role="status" data-feed-state={feedState}>{FEED_STATE_TEXT[feedState]}</p>}
    </header>
  )
}

/**
 * The page for a signed-in person. Whoever opens it signed out is sent to sign in, and back
 * here afterwards; after a reload, once the session is restored (or not). (Signing out later
 * routes by itself; see SessionProvider.)
 */
function signedIn (Page: ComponentType): ComponentType {
  return function SignedInOnly () {
    const { session, restoring, setReturnTo } = useSession()
    const { route, url } = useLocation()
    const signedOut = !restoring && session === null
    useEffect(() => {
      if (signedOut) { setReturnTo(url); route('/sign-in', true) }
    }, [signedOut])
    if (restoring) return <Restoring />
    return session ? <Page /> : null
  }
}

/** Sign-in and registration: a signed-in person (also one signed in in another tab) goes to where they were going. */
function signedOut (Page: ComponentType): ComponentType {
  return function SignedOutOnly () {
    const { session, restoring, returnTo, setReturnTo } = useSession()
    const { route } = useLocation()
    useEffect(() => {
      if (session !== null) { route(returnTo ?? '/', true); setReturnTo(null) }
    }, [session])
    if (restoring) return <Restoring />
    return session ? null : <Page />
  }
}

function Restoring () {
  return <p class="restoring" aria-busy="true">Signing you in…</p>
}

// Made once, so that every route keeps its component's identity across renders.
const MyOrders = signedIn(OrdersListPage)
const NewOrder = signedIn(NewOrderPage)
const OrderDetail = signedIn(OrderDetailPage)
const SignIn = signedOut(SignInPage)
const Register = signedOut(RegisterPage)
