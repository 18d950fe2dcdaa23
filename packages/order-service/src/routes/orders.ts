import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { BODY_ERRORS, ChangeOrderStatusBody, CreateOrderBody, errorResponses, hasScope, Order, OrderListQuery, OrderPage, SCOPES, Uuid } from '@orders/contracts'
import type { OrderRepository } from '../order-repository.ts'

const OrderIdParams = Type.Object({ id: Uuid({ description: 'The order id' }) })
const bearer = [{ bearerAuth: [] }]

/**
 * The orders API. Who may call each route is stated in its `onRequest` and its summary. What
 * the repository refuses (unknown order, illegal move, reused key, bad cursor) it throws as a
 * domain error, which the platform's error handler answers (404, 409, 400).
 */
export interface OrdersRoutesOptions {
  orderRepository: OrderRepository
  /** The currency of an order whose request names none (DEFAULT_CURRENCY). */
  defaultCurrency: string
  /** How long a new order stays cancellable before the processor may take it (ORDER_GRACE_PERIOD_MS). */
  gracePeriodMs: number
}

const ordersRoutes: FastifyPluginAsyncTypebox<OrdersRoutesOptions> = async (app, { orderRepository, defaultCurrency, gracePeriodMs }) => {
  app.post('/orders', {
    onRequest: app.requireScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: 'Place an order (user token)',
      description: 'Stores the order with status `new`; it is then processed asynchronously, once its grace period ' +
        '(`cancellable_until`) is over. Amounts are minor units of `currency` (the service default when left out). ' +
        'With an `Idempotency-Key`, repeating the same request returns the same order (200) and creates nothing new. ' +
        'A 400 names every field in error at once, in `message` and in `errors`.',
      security: bearer,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
      body: CreateOrderBody,
      response: { 201: Order, 200: Order, ...errorResponses(...BODY_ERRORS, 401, 403, 409, 503) }
    }
  }, async (request, reply) => {
    const { order, created } = await orderRepository.createWithOutbox({
      userId: request.user.sub,
      items: request.body.items,
      currency: request.body.currency ?? defaultCurrency,
      gracePeriodMs,
      idempotencyKey: request.headers['idempotency-key'],
      requestId: request.id
    })
    return await reply.code(created ? 201 : 200).send(order)
  })

  app.get('/orders', {
    onRequest: app.requireScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: "List the caller's own orders, newest first, optionally of one status (user token)",
      security: bearer,
      querystring: OrderListQuery,
      response: { 200: OrderPage, ...errorResponses(400, 401, 403, 503) }
    }
  }, async request => {
    const page = await orderRepository.listForUser(request.user.sub, request.query)
    return { orders: page.orders, next_cursor: page.nextCursor }
  })

  app.get('/orders/:id', {
    onRequest: app.requireScope(SCOPES.user, SCOPES.orderStatusWrite),
    schema: {
      tags: ['orders'],
      summary: "One order (user token: only the caller's own; service token with orders:status: any)",
      security: bearer,
      params: OrderIdParams,
      response: { 200: Order, ...errorResponses(400, 401, 403, 404, 503) }
    }
  }, async request => {
    // A person sees only their own orders; the processor (orders:status) sees every order.
    const ownerId = hasScope(request.user.scope, SCOPES.orderStatusWrite) ? undefined : request.user.sub
    return await orderRepository.getById(request.params.id, { ownerId })
  })

  app.post('/orders/:id/cancel', {
    onRequest: app.requireScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: "Cancel one of the caller's own orders while it is still new (user token)",
      description: 'Once the processor has taken the order (processing or later) it cannot be cancelled: 409.',
      security: bearer,
      params: OrderIdParams,
      response: { 200: Order, ...errorResponses(400, 401, 403, 404, 409, 503) }
    }
  }, async request => {
    return await orderRepository.changeStatus(request.params.id, { status: 'cancelled' }, request.id, { ownerId: request.user.sub })
  })

  app.patch('/orders/:id', {
    onRequest: app.requireScope(SCOPES.orderStatusWrite),
    schema: {
      tags: ['orders'],
      summary: 'Move an order along its state machine (service token with scope orders:status only)',
      description: 'new → processing → completed | failed, new → cancelled. Any other move is 409. `failure_reason` is required with `failed` and allowed only then.',
      security: bearer,
      params: OrderIdParams,
      body: ChangeOrderStatusBody,
      response: { 200: Order, ...errorResponses(...BODY_ERRORS, 401, 403, 404, 409, 503) }
    }
  }, async request => {
    const change = request.body
    if ((change.status === 'failed') !== (change.failure_reason !== undefined)) {
      throw app.httpErrors.badRequest('failure_reason is required when status is "failed", and allowed only then')
    }
    return await orderRepository.changeStatus(request.params.id, change, request.id)
  })
}

export default ordersRoutes
