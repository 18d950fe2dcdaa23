/**
 * The end-to-end and browser flows that can share one started system: it is started once
 * (≈10 s and seven processes) and each flow runs against it in turn, as a subtest.
 *
 * A new flow goes in test/flows/ (browser flows in test/flows/browser/): a module exporting
 * `async (t, system) => …` that registers its own users and leaves every process running —
 * one it stops, it starts again in a teardown (`stopUntilTestEnds`). Then add it to the list
 * below. A test that needs a system of its own (it stops a process for good, or needs other
 * settings) is a file of its own here, like graceful-shutdown.test.ts. See test/README.md.
 */
import t, { type Test } from 'tap'
import { startTestSystem, type TestSystem } from './system-helper.ts'
import { orderFlow } from './flows/order-flow.ts'
import { liveStatusFlow } from './flows/live-status.ts'
import { orderJourneyFlow } from './flows/browser/order-journey.ts'
import { errorsAndSessionFlow } from './flows/browser/errors-and-session.ts'
import { cancelOrderFlow } from './flows/browser/cancel-order.ts'
import { moneyAndListFlow } from './flows/browser/money-and-list.ts'
import { sessionsFlow } from './flows/browser/sessions.ts'
import { metricsFlow } from './flows/metrics.ts'
import { leastPrivilegeFlow } from './flows/least-privilege.ts'

const flows: Array<[name: string, flow: (t: Test, system: TestSystem) => Promise<void>]> = [
  ['the order flow end to end, through the gateway', orderFlow],
  ['live order status over WebSocket, across replicas', liveStatusFlow],
  ['in the browser: a person’s way through the web app', orderJourneyFlow],
  ['in the browser: errors in words, the session and the live connection', errorsAndSessionFlow],
  ['in the browser: sessions that last across reloads and refreshes, and end for good', sessionsFlow],
  ['in the browser: cancelling an order', cancelOrderFlow],
  ['in the browser: money in the order’s currency, the form’s checks, the list by status', moneyAndListFlow],
  ['metrics: Prometheus scrapes every process and finds each metric after an order', metricsFlow],
  ['least privilege: every process connected as its own service\'s database role and broker user', leastPrivilegeFlow]
]

// The flows run one after another in this one file, so it needs more than the 180 s .taprc
// gives a file: about twice what they take on a quiet machine (see test/README.md).
t.setTimeout(420_000)

const system = await startTestSystem(t)
for (const [name, flow] of flows) t.test(name, async t => { await flow(t, system) })
