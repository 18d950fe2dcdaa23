import { request } from 'undici'
import { ORDER_STATUSES, type ChangeOrderStatusBody, type Order } from '@orders/contracts'
import type { Logger } from '@orders/platform'

export type PatchStatusResult =
  | { outcome: 'ok', order: Order }
  | { outcome: 'not_found' }
  /** The state machine refused the move (including a move to the current status). */
  | { outcome: 'conflict' }

export type GetOrderResult =
  | { outcome: 'ok', order: Order }
  | { outcome: 'not_found' }

/** What the processing rules need from the order-service, already bound to one message. */
export interface OrderStatusApi {
  patchStatus: (orderId: string, change: ChangeOrderStatusBody) => Promise<PatchStatusResult>
  getOrder: (orderId: string) => Promise<GetOrderResult>
}

/** The order-service was unreachable, too slow or answered 5xx/429: worth trying again later. */
export class TransientOrderServiceError extends Error {
  override name = 'TransientOrderServiceError'
}

/** An answer outside the contract (400, 403, a fresh token rejected): a bug or a misconfiguration. */
export class UnexpectedOrderServiceAnswerError extends Error {
  override name = 'UnexpectedOrderServiceAnswerError'
  /** The HTTP status, when the answer had an unexpected one (not for a 200 with a malformed body). */
  readonly status: number | undefined

  constructor (message: string, status?: number) {
    super(message)
    this.status = status
  }
}

/** platform's ServiceTokenClient fits; tests may pass their own. */
export interface ServiceTokens {
  getToken: () => Promise<string>
  invalidate: () => void
}

export interface OrderServiceClientOptions {
  gatewayUrl: string
  tokens: ServiceTokens
  /** Per HTTP call: a hung order-service must not hold a message (and its prefetch slot) forever. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 10_000

interface HttpCall { method: 'GET' | 'PATCH', path: string, requestId: string, signal: AbortSignal | undefined, body?: unknown }
interface HttpAnswer { status: number, body: unknown }

/**
 * Calls the order-service through the gateway with the processor's service token
 * (scope orders:status). The token is cached by `tokens`; a 401 means it was revoked or the
 * signing key rotated, so it is renewed once and the call repeated once.
 */
export class OrderServiceClient {
  readonly #baseUrl: string
  readonly #tokens: ServiceTokens
  readonly #timeoutMs: number

  constructor (options: OrderServiceClientOptions) {
    this.#baseUrl = options.gatewayUrl.replace(/\/+$/, '')
    this.#tokens = options.tokens
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  /**
   * The calls for one message: its request id travels as `x-request-id` so logs join across
   * services; `signal` (the processor shutting down) aborts a call in flight.
   */
  forMessage (requestId: string, log: Logger, signal?: AbortSignal): OrderStatusApi {
    return {
      patchStatus: async (orderId, change) => await this.patchStatus(orderId, change, requestId, log, signal),
      getOrder: async (orderId) => await this.getOrder(orderId, requestId, log, signal)
    }
  }

  async patchStatus (orderId: string, change: ChangeOrderStatusBody, requestId: string, log: Logger, signal?: AbortSignal): Promise<PatchStatusResult> {
    const answer = await this.#send({ method: 'PATCH', path: orderPath(orderId), requestId, signal, body: change }, log)
    if (answer.status === 200) return { outcome: 'ok', order: asOrder(answer.body) }
    if (answer.status === 404) return { outcome: 'not_found' }
    if (answer.status === 409) return { outcome: 'conflict' }
    throw unexpectedAnswer('PATCH', orderPath(orderId), answer)
  }

  async getOrder (orderId: string, requestId: string, log: Logger, signal?: AbortSignal): Promise<GetOrderResult> {
    const answer = await this.#send({ method: 'GET', path: orderPath(orderId), requestId, signal }, log)
    if (answer.status === 200) return { outcome: 'ok', order: asOrder(answer.body) }
    if (answer.status === 404) return { outcome: 'not_found' }
    throw unexpectedAnswer('GET', orderPath(orderId), answer)
  }

  async #send (call: HttpCall, log: Logger): Promise<HttpAnswer> {
    const token = await this.#tokens.getToken()
    const answer = await this.#request(call, token)
    if (answer.status !== 401) return answer
    log.info({ method: call.method, path: call.path }, 'service token rejected (401); fetching a new one and retrying once')
    const renewed = await this.#renewToken(token)
    return await this.#request(call, renewed)
  }

  /**
   * Many messages in flight may see the same 401 at once; only the first throws the token
   * away, the others pick up the token it fetched, so one revocation costs one token request.
   */
  async #renewToken (rejected: string): Promise<string> {
    const current = await this.#tokens.getToken()
    if (current !== rejected) return current
    this.#tokens.invalidate()
    return await this.#tokens.getToken()
  }

  async #request ({ method, path, requestId, signal, body }: HttpCall, token: string): Promise<HttpAnswer> {
    const timeout = AbortSignal.timeout(this.#timeoutMs)
    try {
      // undici's request(), not fetch(): the same keep-alive client without the WHATWG
      // Request/Response/stream layers, which took half of the processor's CPU (bench profile).
      const response = await request(this.#baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-request-id': requestId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' })
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout
      })
      // Always read the body: an unread body keeps the kept-alive connection busy.
      const text = await response.body.text()
      return { status: response.statusCode, body: parseJson(text) }
    } catch (err) {
      throw new TransientOrderServiceError(`${method} ${path} failed: ${(err as Error).message}`, { cause: err })
    }
  }
}

function orderPath (orderId: string): string {
  return `/orders/${encodeURIComponent(orderId)}`
}

function parseJson (text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text)
  } catch {
    return text
  }
}

/** The processor only relies on the status; anything else in the answer is the order-service's business. */
function asOrder (body: unknown): Order {
  const status = (body as { status?: unknown } | undefined)?.status
  if (!(ORDER_STATUSES as readonly unknown[]).includes(status)) {
    throw new UnexpectedOrderServiceAnswerError(`order-service answered 200 without a known order status: ${JSON.stringify(body)?.slice(0, 200)}`)
  }
  return body as Order
}

function unexpectedAnswer (method: string, path: string, answer: HttpAnswer): Error {
  const detail = `${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)?.slice(0, 200)}`
  // 502/503/504 come from the gateway when no replica is up; 429 asks us to slow down.
  if (answer.status >= 500 || answer.status === 429 || answer.status === 408) return new TransientOrderServiceError(detail)
  return new UnexpectedOrderServiceAnswerError(detail, answer.status)
}
