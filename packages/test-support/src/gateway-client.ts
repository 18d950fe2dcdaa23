import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'

/**
 * The platform as a person's browser uses it, through the gateway: register, log in, place an
 * order, read it, wait for a status, watch status changes on the WebSocket. One client for the
 * end-to-end tests, `pnpm bench` and `pnpm chaos`, so all three speak the same API.
 */

export interface HttpAnswer { status: number, body: any, headers: Headers }

export interface CallOptions {
  method?: string
  token?: string
  /** Sent as JSON unless it is a string already. */
  body?: unknown
  headers?: Record<string, string>
  timeoutMs?: number
}

/** One HTTP request; the body is parsed as JSON when it is JSON. Throws only when no answer came. */
export async function call (url: string, init: CallOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.token) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] ??= 'application/json'
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 15_000)
  })
  const text = await response.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: response.status, body, headers: response.headers }
}

export interface SignedInUser {
  /** The user as POST /users answered: {id, email, created_at}. */
  user: { id: string, email: string, created_at: string }
  token: string
}

/** Registers a new user and logs them in; throws with the answer when either is refused. */
export async function registerAndLogin (gatewayUrl: string, email: string, password = 'correct horse battery'): Promise<SignedInUser> {
  const registered = await call(`${gatewayUrl}/users`, { method: 'POST', body: { email, password } })
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${JSON.stringify(registered.body)}`)
  return { user: registered.body, token: await login(gatewayUrl, email, password) }
}

/** The access token for these credentials; throws when the login is refused. */
export async function login (gatewayUrl: string, email: string, password: string): Promise<string> {
  const answer = await call(`${gatewayUrl}/login`, { method: 'POST', body: { email, password } })
  if (answer.status !== 200) throw new Error(`login answered ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body.access_token as string
}

export interface OrderLine { sku: string, quantity: number, unit_price: number }

/** POST /orders. The answer as it came (201 with the order, or an error), for callers that count failures. */
export async function placeOrder (gatewayUrl: string, token: string, items: OrderLine[], options: { idempotencyKey?: string, timeoutMs?: number } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }
  return await call(`${gatewayUrl}/orders`, { method: 'POST', token, body: { items }, headers, timeoutMs: options.timeoutMs })
}

/** GET /orders/{id}: the order, or throws with the answer when it is not 200. */
export async function readOrder (gatewayUrl: string, token: string, id: string): Promise<any> {
  const answer = await call(`${gatewayUrl}/orders/${id}`, { token })
  if (answer.status !== 200) throw new Error(`GET /orders/${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body
}

/** Polls an order until it reaches one of `statuses`, within a deadline; `seen` is every status read on the way. */
export async function waitForOrderStatus (gatewayUrl: string, token: string, id: string, statuses: string[], timeoutMs = 20_000): Promise<{ order: any, seen: string[] }> {
  const deadline = Date.now() + timeoutMs
  const seen: string[] = []
  for (;;) {
    const order = await readOrder(gatewayUrl, token, id)
    if (seen.at(-1) !== order.status) seen.push(order.status)
    if (statuses.includes(order.status)) return { order, seen }
    if (Date.now() > deadline) throw new Error(`order ${id} still ${order.status} after ${timeoutMs} ms (seen: ${seen.join(' → ')})`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

export interface OrderWatch {
  /** Sockets that closed before `close()` was called. */
  readonly closedUnexpectedly: boolean
  close: () => Promise<void>
}

/**
 * Opens the WebSocket /orders/ws with `token` and calls `onStatus` for every status change of
 * the user's orders, with the moment it arrived (performance.now()). Resolves once the socket
 * is open; rejects when the gateway refuses it or it does not open within 10 s.
 */
export async function watchOrders (gatewayUrl: string, token: string, onStatus: (order: { id: string, status: string } & Record<string, unknown>, at: number) => void): Promise<OrderWatch> {
  const url = `${gatewayUrl.replace(/^http/, 'ws')}/orders/ws?access_token=${encodeURIComponent(token)}`
  const socket = await new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url)
    const timer = setTimeout(() => { socket.terminate(); reject(new Error('the WebSocket /orders/ws did not open within 10 s')) }, 10_000)
    socket.once('open', () => { clearTimeout(timer); resolve(socket) })
    socket.once('unexpected-response', (_request, response) => { clearTimeout(timer); socket.terminate(); reject(new Error(`the WebSocket /orders/ws was refused: ${response.statusCode}`)) })
    socket.once('error', err => { clearTimeout(timer); reject(err) })
  })
  let closing = false
  let closedUnexpectedly = false
  socket.on('close', () => { if (!closing) closedUnexpectedly = true })
  socket.on('message', data => {
    const at = performance.now()
    let message: { type?: string, order?: { id?: unknown, status?: unknown } & Record<string, unknown> }
    try { message = JSON.parse(String(data)) } catch { return }
    const order = message.order
    if (message.type !== 'order.status_changed' || typeof order?.id !== 'string' || typeof order.status !== 'string') return
    onStatus(order as { id: string, status: string } & Record<string, unknown>, at)
  })
  return {
    get closedUnexpectedly () { return closedUnexpectedly },
    async close () {
      closing = true
      if (socket.readyState === WebSocket.CLOSED) return
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { socket.terminate(); resolve() }, 2_000)
        socket.once('close', () => { clearTimeout(timer); resolve() })
        socket.close(1000, 'done')
      })
    }
  }
}
