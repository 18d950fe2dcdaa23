/**
 * The platform's HTTP API, as the browser calls it: same origin (HAProxy serves the app and
 * the API), JSON both ways, the access token as a Bearer header. Every failure becomes an
 * ApiError that already says in words what went wrong. A request refused with 401 is sent
 * once more with a new token, when the session can get one (it expired a moment ago).
 */
import type { AccessTokenResponse, Order, OrderItem, OrderPage, OrderStatus, SessionEndReason, TokenErrorResponse, User } from '@orders/contracts'
import { LOGOUT_PATH, REFRESH_TOKEN_GRANT, TOKEN_PATH } from '@orders/contracts/sessions'
import { describeApiError, NETWORK_PROBLEM, SESSION_ENDED, type ApiAction, type FieldError, type ProblemInWords } from './api-errors.ts'
import type { RefreshAnswer } from './session.ts'

export class ApiError extends Error {
  readonly status: number
  readonly fields: Record<string, string>
  /** A refused refresh: why the session is over. */
  readonly reason: SessionEndReason | undefined

  /** status 0: the server could not be reached. */
  constructor (status: number, problem: ProblemInWords, reason?: SessionEndReason) {
    super(problem.message)
    this.status = status
    this.fields = problem.fields
    this.reason = reason
  }
}

/** Where requests get their access token (the SessionKeeper). */
export interface AccessTokens {
  /** A token that is not about to expire; null once the session has ended. */
  token: () => Promise<string | null>
  /** After a 401 to `rejected`: a newer token, or null when the session has ended (and the app signs out). */
  replace: (rejected: string) => Promise<string | null>
}

const REQUEST_TIMEOUT_MS = 15_000

/** A request with the session's access token; a 401 gets one more try with a newer token. */
async function authorized<T> (tokens: AccessTokens, action: ApiAction, method: string, path: string, options: { body?: unknown, headers?: Record<string, string> } = {}): Promise<T> {
  const token = await tokens.token()
  if (token === null) throw new ApiError(401, { message: SESSION_ENDED, fields: {} })
  try {
    return await request<T>(action, method, path, { ...options, token })
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err
    const next = await tokens.replace(token)
    if (next === null) throw err
    // Refused before anything was done (authentication comes first), so sending it again is safe.
    return await request<T>(action, method, path, { ...options, token: next })
  }
}

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
  // 204 (signed out) has no body.
  const body: unknown = response.status === 204 ? null : await response.json().catch(() => undefined)
  if (response.ok) return body as T
  const error = typeof body === 'object' && body !== null ? body as Partial<Record<keyof TokenErrorResponse, unknown>> : {}
  const message = typeof error.message === 'string' ? error.message : undefined
  const fieldErrors = Array.isArray(error.errors) ? error.errors as FieldError[] : []
  const reason = typeof error.reason === 'string' ? error.reason as SessionEndReason : undefined
  throw new ApiError(response.status, describeApiError(action, response.status, message, fieldErrors), reason)
}

export const api = {
  register: async (email: string, password: string) =>
    await request<User>('register', 'POST', '/users', { body: { email, password } }),

  /** Also starts a session: its refresh token arrives as an HttpOnly cookie this script never sees. */
  login: async (email: string, password: string) =>
    await request<AccessTokenResponse>('login', 'POST', '/login', { body: { email, password } }),

  /** A new access token for the session of the refresh cookie (the browser sends it to this path only). */
  refresh: async (): Promise<RefreshAnswer> => {
    try {
      return { refreshed: true, token: await request<AccessTokenResponse>('refresh', 'POST', TOKEN_PATH, { body: { grant_type: REFRESH_TOKEN_GRANT } }) }
    } catch (err) {
      const reason = err instanceof ApiError && err.status === 401 ? err.reason : undefined
      if (reason === undefined) throw err
      return { refreshed: false, reason }
    }
  },

  /** Ends the session of `token` on the server, and clears the refresh cookie. */
  logout: async (token: string) => { await request<null>('logout', 'POST', LOGOUT_PATH, { token }) },

  whoAmI: async (token: string) => await request<User>('load-account', 'GET', '/users/me', { token }),

  /** The same key with the same items places the order once, however often it is sent. */
  placeOrder: async (tokens: AccessTokens, order: { items: OrderItem[], currency: string }, idempotencyKey: string) =>
    await authorized<Order>(tokens, 'place-order', 'POST', '/orders', { body: order, headers: { 'idempotency-key': idempotencyKey } }),

  /** With `status`, only the orders in that status (the cursor continues the same filter). */
  listOrders: async (tokens: AccessTokens, page: { limit: number, cursor?: string | null, status?: OrderStatus | null }) => {
    const query = new URLSearchParams({ limit: String(page.limit) })
    if (page.cursor) query.set('cursor', page.cursor)
    if (page.status) query.set('status', page.status)
    return await authorized<OrderPage>(tokens, 'load-orders', 'GET', `/orders?${query}`)
  },

  getOrder: async (tokens: AccessTokens, id: string) =>
    await authorized<Order>(tokens, 'load-order', 'GET', `/orders/${encodeURIComponent(id)}`),

  /** Only while the order is `new`; afterwards 409 (an ApiError saying so). */
  cancelOrder: async (tokens: AccessTokens, id: string) =>
    await authorized<Order>(tokens, 'cancel-order', 'POST', `/orders/${encodeURIComponent(id)}/cancel`)
}
