import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ChangeOrderStatusBody, CreateOrderBody, ErrorResponse, hasScope, Order, OrderPage, SCOPES } from '@orders/contracts'
import { IdempotencyKeyReusedError, IllegalTransitionError, type OrderRepository } from '../order-repository.ts'
import { InvalidCursorError } from '../cursor.ts'

const OrderIdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'The order id (uuid)' }) })
const errors = (...codes: number[]) => Object.fromEntries(codes.map(code => [code, ErrorResponse]))
const bearer = [{ bearerAuth: [] }]

/** The orders API. Who may call each route is stated in its `onRequest` and its summary. */
const ordersRoutes: FastifyPluginAsyncTypebox<{ orderRepository: OrderRepository }> = async (app, { orderRepository }) => {
  app.post('/orders', {
    onRequest: app.requireScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: 'Place an order (user token)',
      description: 'Stores the order with status `new`; it is then processed asynchronously. ' +
        'With an `Idempotency-Key`, repeating the same request returns the same order (200) and creates nothing new.',
      security: bearer,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
      body: CreateOrderBody,
      response: { 201: Order, 200: Order, ...errors(400, 401, 403, 409, 413, 503) }
    }
  }, async (request, reply) => {
    try {
      const { order, created } = await orderRepository.createWithOutbox({
        userId: request.user.sub,
        items: request.body.items,
        idempotencyKey: request.headers['idempotency-key'],
        requestId: request.id
      })
      return await reply.code(created ? 201 : 200).send(order)
    } catch (err) {
      if (err instanceof IdempotencyKeyReusedError) throw app.httpErrors.conflict(err.message)
      throw err
    }
  })

  app.get('/orders', {
    onRequest: app.requireScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: "List the caller's own orders, newest first (user token)",
      security: bearer,
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
        cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page' }))
      }, { additionalProperties: false }),
      response: { 200: OrderPage, ...errors(400, 401, 403, 503) }
    }
  }, async request => {
    try {
      const page = await orderRepository.listForUser(request.user.sub, request.query)
      return { orders: page.orders, next_cursor: page.nextCursor }
    } catch (err) {
      if (err instanceof InvalidCursorError) throw app.httpErrors.badRequest(err.message)
      throw err
    }
  })

  app.get('/orders/:id', {
    onRequest: app.requireScope(SCOPES.user, SCOPES.orderStatusWrite),
    schema: {
      tags: ['orders'],
      summary: "One order (user token: only the caller's own; service token with orders:status: any)",
      security: bearer,
      params: OrderIdParams,
      response: { 200: Order, ...errors(400, 401, 403, 404, 503) }
    }
  }, async request => {
    const order = await orderRepository.findById(request.params.id)
    // Another user's order is "not found", exactly like an unknown id: its existence is not revealed.
    const visible = order && (order.user_id === request.user.sub || hasScope(request.user.scope, SCOPES.orderStatusWrite))
    if (!visible) throw app.httpErrors.notFound('Order not found')
    return order
  })

  app.post('/orders/:id/cancel', {
    onRequest: app.requireScope(SCOPES.user),
    schema: {
      tags: ['orders'],
      summary: "Cancel one of the caller's own orders while it is still new (user token)",
      description: 'Once the processor has taken the order (processing or later) it cannot be cancelled: 409.',
      security: bearer,
      params: OrderIdParams,
      response: { 200: Order, ...errors(400, 401, 403, 404, 409, 503) }
    }
  }, async request => {
    try {
      const order = await orderRepository.changeStatus(request.params.id, { status: 'cancelled' }, request.id, { ownerId: request.user.sub })
      if (!order) throw app.httpErrors.notFound('Order not found')
      return order
    } catch (err) {
      if (err instanceof IllegalTransitionError) throw app.httpErrors.conflict(`Only a new order can be cancelled; this one is ${err.from}`)
      throw err
    }
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
      response: { 200: Order, ...errors(400, 401, 403, 404, 409, 503) }
    }
  }, async request => {
    const change = request.body
    if ((change.status === 'failed') !== (change.failure_reason !== undefined)) {
      throw app.httpErrors.badRequest('failure_reason is required when status is "failed", and allowed only then')
    }
    try {
      const order = await orderRepository.changeStatus(request.params.id, change, request.id)
      if (!order) throw app.httpErrors.notFound('Order not found')
      return order
    } catch (err) {
      if (err instanceof IllegalTransitionError) throw app.httpErrors.conflict(err.message)
      throw err
    }
  })
}

export default ordersRoutes
