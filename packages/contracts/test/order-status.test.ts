import t from 'tap'
import { canTransition, isFinalStatus, ORDER_STATUSES, predecessorOf } from '@orders/contracts'

t.test('an order moves new → processing → completed or failed, or new → cancelled', async t => {
  t.ok(canTransition('new', 'processing'))
  t.ok(canTransition('new', 'cancelled'))
  t.ok(canTransition('processing', 'completed'))
  t.ok(canTransition('processing', 'failed'))
})

t.test('no other move is allowed, including staying in place', async t => {
  const allowed = new Set(['new>processing', 'new>cancelled', 'processing>completed', 'processing>failed'])
  for (const from of ORDER_STATUSES) {
    for (const to of ORDER_STATUSES) {
      t.equal(canTransition(from, to), allowed.has(`${from}>${to}`), `${from} → ${to}`)
    }
  }
})

t.test('completed, failed and cancelled are final', async t => {
  t.same(ORDER_STATUSES.filter(isFinalStatus), ['completed', 'failed', 'cancelled'])
})

t.test('every status is reached from one status at most, so a move is one compare-and-set', async t => {
  for (const to of ORDER_STATUSES) {
    const from = ORDER_STATUSES.filter(status => canTransition(status, to))
    t.ok(from.length <= 1, `${to} is reached from ${from.join(', ') || 'nothing'}`)
    t.equal(predecessorOf(to), from[0], `the predecessor of ${to}`)
  }
})
