import t from 'tap'
import { faultTable } from '../src/answers.ts'
import type { LoadAnswer } from '../src/load.ts'

t.test('answers are counted by the fault during which their request started', async t => {
  const answers: LoadAnswer[] = [
    { startedAt: 100, status: 201, orderId: 'a' },
    { startedAt: 1_500, status: 503, message: 'broker unavailable' },
    { startedAt: 1_600, status: 0, message: 'fetch failed' },
    { startedAt: 1_700, status: 201, orderId: 'b' },
    { startedAt: 3_000, status: 409 }
  ]
  const rows = faultTable([{ fault: 'RabbitMQ unreachable for 3 s', from: 1_000, to: 2_500 }], answers)
  t.same(rows, [
    { fault: 'RabbitMQ unreachable for 3 s', 'until back (s)': '1.5', requests: 3, 'accepted (201)': 1, 'failed (5xx)': 1, 'no answer': 1, other: 0 },
    { fault: '(between faults)', 'until back (s)': '-', requests: 2, 'accepted (201)': 1, 'failed (5xx)': 0, 'no answer': 0, other: 1 }
  ])
})
