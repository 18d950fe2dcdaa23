import { EventEmitter, once } from 'node:events'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import {
  canTransition, isFinalStatus, FAILURE_REASONS, ORDER_STATUSES, SCOPES,
  type ChangeOrderStatusBody, type Order, type OrderStatus
} from '@orders/contracts'

export const TEST_CLIENT_ID = 'order-processor'
export const TEST_CLIENT_SECRET = 'test-secret'

export interface RecordedCall {
  method: 'GET' | 'PATCH'
  orderId: string
  /** The status a PATCH asked for. */
  requested?: OrderStatus
  body?: unknown
  answered: number
  /** Date.now() when the call arrived. */
  at: number
  authorization: string | undefined
  requestId: string | undefined
  contentType: string | undefined
}

interface InjectedFailure { method: 'GET' | 'PATCH', orderId: string, requested?: OrderStatus, statusCode: number, remaining: number }

/**
 * Plays the order-service API the processor calls through the gateway (PATCH and GET
 * /orders/:id with the contracts' state machine) plus the gateway's token endpoint, with the
 * orders in memory. Tests seed orders, inject failures and read back every call it answered.
 */
export class FakeOrderService {
  readonly orders = new Map<string, Order>()
  readonly calls: RecordedCall[] = []
  tokensIssued = 0
  readonly #validTokens = new Set<string>()
  readonly #failures: InjectedFailure[] = []
  readonly #events = new EventEmitter()
  readonly #app: FastifyInstance
  url = ''

  private constructor () {
    this.#events.setMaxListeners(0)
    this.#app = Fastify({ logger: false })
    this.#app.post('/oauth/token', async (request, reply) => await this.#issueToken(request, reply))
    this.#app.patch('/orders/:id', async (request, reply) => await this.#patch(request, reply))
    this.#app.get('/orders/:id', async (request, reply) => await this.#get(request, reply))
  }

  static async start (): Promise<FakeOrderService> {
    const fake = new FakeOrderService()
    const address = await fake.#app.listen({ host: '127.0.0.1', port: 0 })
    fake.url = address
    return fake
  }

  async close (): Promise<void> {
    await this.#app.close()
  }

  add (order: Order): Order {
    this.orders.set(order.id, structuredClone(order))
    return order
  }

  /** Answer the next `times` matching calls with `statusCode` instead of serving them. */
  failNext (match: { method: 'GET' | 'PATCH', orderId: string, requested?: OrderStatus }, statusCode: number, times = 1): void {
    this.#failures.push({ ...match, statusCode, remaining: times })
  }

  /** Every token issued so far stops working, as after a key rotation. */
  revokeTokens (): void {
    this.#validTokens.clear()
  }

  callsFor (orderId: string): RecordedCall[] {
    return this.calls.filter(call => call.orderId === orderId)
  }

  /** Resolves with the order once a PATCH moved it to completed or failed. */
  async finalized (orderId: string): Promise<Order> {
    while (true) {
      const current = this.orders.get(orderId)
      if (current && isFinalStatus(current.status)) return structuredClone(current)
      await once(this.#events, 'final')
    }
  }

  async #issueToken (request: FastifyRequest, reply: FastifyReply) {
    const body = request.body as Record<string, unknown>
    if (body.grant_type !== 'client_credentials' || body.client_id !== TEST_CLIENT_ID || body.client_secret !== TEST_CLIENT_SECRET) {
      return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'invalid client' })
    }
    if (body.scope !== SCOPES.orderStatusWrite) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: 'invalid scope' })
    }
    const token = `token-${++this.tokensIssued}`
    this.#validTokens.add(token)
    return { access_token: token, token_type: 'Bearer', expires_in: 900, scope: SCOPES.orderStatusWrite }
  }

  async #patch (request: FastifyRequest, reply: FastifyReply) {
    const { id } = request.params as { id: string }
    const change = request.body as ChangeOrderStatusBody
    const call = this.#record(request, 'PATCH', id, change?.status)
    const answer = (statusCode: number, payload: unknown) => { call.answered = statusCode; return reply.code(statusCode).send(payload) }

    if (!this.#authorized(request)) return answer(401, error(401, 'Unauthorized'))
    const injected = this.#injectedFailure(call)
    if (injected) return answer(injected, error(injected, 'injected failure'))
    if (!ORDER_STATUSES.includes(change?.status) ||
        (change.status === 'failed') !== (change.failure_reason !== undefined) ||
        (change.failure_reason !== undefined && !FAILURE_REASONS.includes(change.failure_reason))) {
      return answer(400, error(400, 'bad status change'))
    }
    const order = this.orders.get(id)
    if (!order) return answer(404, error(404, 'Not Found'))
    if (!canTransition(order.status, change.status)) return answer(409, error(409, `${order.status} → ${change.status}`))
    order.status = change.status
    order.failure_reason = change.failure_reason ?? null
    order.updated_at = new Date().toISOString()
    const snapshot = structuredClone(order)
    if (isFinalStatus(order.status)) queueMicrotask(() => this.#events.emit('final'))
    return answer(200, snapshot)
  }

  async #get (request: FastifyRequest, reply: FastifyReply) {
    const { id } = request.params as { id: string }
    const call = this.#record(request, 'GET', id)
    const answer = (statusCode: number, payload: unknown) => { call.answered = statusCode; return reply.code(statusCode).send(payload) }

    if (!this.#authorized(request)) return answer(401, error(401, 'Unauthorized'))
    const injected = this.#injectedFailure(call)
    if (injected) return answer(injected, error(injected, 'injected failure'))
    const order = this.orders.get(id)
    if (!order) return answer(404, error(404, 'Not Found'))
    return answer(200, structuredClone(order))
  }

  #record (request: FastifyRequest, method: 'GET' | 'PATCH', orderId: string, requested?: OrderStatus): RecordedCall {
    const call: RecordedCall = {
      method,
      orderId,
      requested,
      body: request.body,
      answered: 0,
      at: Date.now(),
      authorization: request.headers.authorization,
      requestId: request.headers['x-request-id'] as string | undefined,
      contentType: request.headers['content-type']
    }
    this.calls.push(call)
    return call
  }

  #authorized (request: FastifyRequest): boolean {
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')
    return match !== null && this.#validTokens.has(match[1] ?? '')
  }

  #injectedFailure (call: RecordedCall): number | undefined {
    const failure = this.#failures.find(f => f.remaining > 0 && f.method === call.method && f.orderId === call.orderId &&
      (f.requested === undefined || f.requested === call.requested))
    if (!failure) return undefined
    failure.remaining--
    return failure.statusCode
  }
}

function error (statusCode: number, message: string) {
  return { statusCode, error: message, message }
}
