import t from 'tap'
import type { Order, OrderStatus } from '@orders/contracts'
import { ORDER_STATUSES } from '@orders/contracts'
import { appendPage, applyOrderUpdate, cancelRefusal, canCancel, itemSummary, resynchronise, secondsLeft, STATUS_LABELS, type OrderList } from '../client/orders.ts'

/** An order created `minute` minutes past the hour, its status changed `seconds` later. */
function order (id: string, minute: number, status: OrderStatus = 'new', seconds = 0): Order {
  const created = `2026-11-25T10:${String(minute).padStart(2, '0')}:00.000Z`
  return {
    id, user_id: 'u', status, items: [{ sku: 'A', quantity: 1, unit_price: 100 }], currency: 'EUR', total: 100,
    failure_reason: null, cancellable_until: created, created_at: created, updated_at: new Date(Date.parse(created) + seconds * 1000).toISOString()
  }
}
const ids = (list: OrderList) => list.orders.map(o => `${o.id}:${o.status}`)

t.test('a live update changes the order it is about', async t => {
  const list = { orders: [order('b', 2), order('a', 1)], nextCursor: null }
  t.same(ids(applyOrderUpdate(list, order('a', 1, 'processing', 1))), ['b:new', 'a:processing'])
})

t.test('an older version never replaces a newer one, in whatever order they arrive', async t => {
  const list = { orders: [order('a', 1, 'completed', 2)], nextCursor: null }
  t.equal(applyOrderUpdate(list, order('a', 1, 'processing', 1)), list)
})

t.test('an unknown order is added where it belongs, newest first', async t => {
  const list = { orders: [order('c', 3), order('a', 1)], nextCursor: null }
  t.same(ids(applyOrderUpdate(list, order('b', 2, 'processing', 1))), ['c:new', 'b:processing', 'a:new'])
})

t.test('an unknown order older than everything loaded waits for "Load more"', async t => {
  const list = { orders: [order('c', 3)], nextCursor: 'more' }
  t.same(ids(applyOrderUpdate(list, order('a', 1, 'processing'))), ['c:new'])
})

t.test('the next page is appended without repeating orders already shown', async t => {
  const list = { orders: [order('c', 3), order('b', 2, 'completed', 2)], nextCursor: 'x' }
  const next = appendPage(list, { orders: [order('b', 2, 'processing', 1), order('a', 1)], nextCursor: null })
  t.same(ids(next), ['c:new', 'b:completed', 'a:new'])
  t.equal(next.nextCursor, null)
})

t.test('after a reconnect the fresh newest orders replace the shown ones, older loaded ones stay', async t => {
  const list = { orders: [order('c', 3), order('b', 2), order('a', 1)], nextCursor: 'after-a' }
  const fresh = { orders: [order('d', 4), order('c', 3, 'completed', 1)], nextCursor: 'after-c' }
  const next = resynchronise(list, fresh)
  t.same(ids(next), ['d:new', 'c:completed', 'b:new', 'a:new'])
  t.equal(next.nextCursor, 'after-a', 'Load more continues after the oldest loaded order')
})

t.test('after a reconnect, a fresh list that reaches the end is the whole list', async t => {
  const next = resynchronise({ orders: [order('a', 1)], nextCursor: null }, { orders: [order('b', 2), order('a', 1, 'failed', 1)], nextCursor: null })
  t.same(ids(next), ['b:new', 'a:failed'])
})

t.test('"Cancel order" is offered only while the order is new', async t => {
  t.same(ORDER_STATUSES.filter(status => canCancel({ status })), ['new'])
})

t.test('a refused cancel says why, by the status the order turned out to have', async t => {
  t.equal(cancelRefusal('processing'), 'This order can no longer be cancelled: it is already being processed.')
  t.equal(cancelRefusal('completed'), 'This order can no longer be cancelled: it has already been completed.')
  t.equal(cancelRefusal('failed'), 'This order can no longer be cancelled: it has already been processed.')
  t.equal(cancelRefusal('cancelled'), 'This order is already cancelled.')
})

t.test('every status of the contract has a badge label in words', async t => {
  for (const status of ORDER_STATUSES) t.match(STATUS_LABELS[status], /^[A-Z][a-z]+$/, status)
  t.equal(STATUS_LABELS.cancelled, 'Cancelled')
})

t.test('a cancel heard live replaces the new order it is about', async t => {
  const list = { orders: [order('a', 1)], nextCursor: null }
  t.same(ids(applyOrderUpdate(list, order('a', 1, 'cancelled', 1))), ['a:cancelled'])
})

t.test('a list of one status takes in only orders of that status, and keeps those it shows', async t => {
  const list = { orders: [order('a', 1, 'new')], nextCursor: null }
  t.same(ids(applyOrderUpdate(list, order('b', 2, 'processing', 1), 'new')), ['a:new'], 'another status is not added')
  t.same(ids(applyOrderUpdate(list, order('c', 3, 'new'), 'new')), ['c:new', 'a:new'])
  t.same(ids(applyOrderUpdate(list, order('a', 1, 'processing', 1), 'new')), ['a:processing'], 'a shown order moves on in place')
})

t.test('an order reads as its first lines', async t => {
  t.equal(itemSummary([{ sku: 'BOOK-42', quantity: 3, unit_price: 1 }, { sku: 'PEN', quantity: 1, unit_price: 1 }]), 'BOOK-42 × 3, PEN × 1')
  const many = Array.from({ length: 5 }, (_, i) => ({ sku: `S${i}`, quantity: 1, unit_price: 1 }))
  t.equal(itemSummary(many), 'S0 × 1, S1 × 1, S2 × 1 and 2 more')
})

t.test('the time left to cancel counts whole seconds down to 0', async t => {
  const until = '2026-11-25T10:00:05.000Z'
  t.equal(secondsLeft(until, Date.parse('2026-11-25T10:00:00.000Z')), 5)
  t.equal(secondsLeft(until, Date.parse('2026-11-25T10:00:04.200Z')), 1)
  t.equal(secondsLeft(until, Date.parse('2026-11-25T10:00:05.000Z')), 0)
  t.equal(secondsLeft(until, Date.parse('2026-11-25T10:01:00.000Z')), 0)
})
