import { counter, gauge, type Counter, type Gauge } from '@orders/platform'

/** The order-service's own metrics (doc/operations.md). */
export const orderMetrics: { statusTransitions: Counter<'from' | 'to'>, webSocketConnections: Gauge, statusEventsReceived: Counter } = {
  /** Every committed move of the state machine; a new order counts as from="none" to="new". */
  statusTransitions: counter({
    name: 'order_status_transitions_total',
    help: 'Committed order status changes, by previous and new status',
    labelNames: ['from', 'to'] as const
  }),
  webSocketConnections: gauge({
    name: 'order_service_websocket_connections',
    help: 'Open WebSockets (GET /orders/ws) on this replica'
  }),
  /** Grows with the status changes of watched users only: a replica nobody watches on receives none. */
  statusEventsReceived: counter({
    name: 'order_service_status_events_received_total',
    help: 'order_status_changed events this replica took from its notification queue'
  })
}
