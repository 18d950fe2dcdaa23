/**
 * The platform's HTTP API, as the browser calls it: same origin (HAProxy serves the app and
 * the API), JSON both ways, the access token as a Bearer header. Every failure becomes an
 * ApiError that already says in words what went wrong.
 */
import type { AccessTokenResponse, Order, OrderItem, OrderPage, OrderStatus, User } from '@orders/contracts'
import { describeApiError, NETWORK_PROBLEM, type ApiAction, type FieldError, type ProblemInWords } from './api-errors.ts'

export class ApiError extends Error {
  readonly status: number
  readonly fields: Record<string, string>

  /** status 0: the server could not be reached. */
  constructor (status: number, problem: ProblemInWords) {
    super(problem.message)
    this.status = status
    this.fields = problem.fields
  }
}

/** Called when the API says a token is no longer valid (401 to a request that sent one). */
let onTokenRejected: () => void = () => {}
export function whenTokenRejected (callback: () => void): void { onTokenRejected = callback }

const REQUEST_TIMEOUT_MS = 15_000

async function request<T> (action: ApiAction, method: string, path: string, options: { token?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    })
  } catch {
    throw new ApiError(0, { message: NETWORK_PROBLEM, fields: {} })
  }
  const body: unknown = await response.json().catch(() => undefined)
  if (response.ok) return body as T
  if (response.status === 401 && options.token !== undefined) onTokenRejected()
  const error = typeof body === 'object' && body !== null ? body as { message?: unknown, errors?: unknown } : {}
  const message = typeof error.message === 'string' ? error.message : undefined
  const fieldErrors = Array.isArray(error.errors) ? error.errors as FieldError[] : []
  throw new ApiError(response.status, describeApiError(action, response.status, message, fieldErrors))
}

export const api = {
  register: async (email: string, password: string) =>
    await request<User>('register', 'POST', '/users', { body: { email, password } }),

  login: async (email: string, password: string) =>
    await request<AccessTokenResponse>('login', 'POST', '/login', { body: { email, password } }),

  /** The same key with the same items places the order once, however often it is sent. */
  placeOrder: async (token: string, order: { items: OrderItem[], currency: string }, idempotencyKey: string) =>
    await request<Order>('place-order', 'POST', '/orders', { token, body: order, headers: { 'idempotency-key': idempotencyKey } }),

  /** With `status`, only the orders in that status (the cursor continues the same filter). */
  listOrders: async (token: string, page: { limit: number, cursor?: string | null, status?: OrderStatus | null }) => {
    const query = new URLSearchParams({ limit: String(page.limit) })
    if (page.cursor) query.set('cursor', page.cursor)
    if (page.status) query.set('status', page.status)
    return await request<OrderPage>('load-orders', 'GET', `/orders?${query}`, { token })
  },

  getOrder: async (token: string, id: string) =>
    await request<Order>('load-order', 'GET', `/orders/${encodeURIComponent(id)}`, { token }),

  /** Only while the order is `new`; afterwards 409 (an ApiError saying so). */
  cancelOrder: async (token: string, id: string) =>
    await request<Order>('cancel-order', 'POST', `/orders/${encodeURIComponent(id)}/cancel`, { token })
}
