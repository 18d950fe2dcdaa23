import type { OrderStatus } from '@orders/contracts'
import { STATUS_LABELS } from '../orders.ts'

/** The status in words and in colour (the words alone carry the meaning). */
export function StatusBadge ({ status }: { status: OrderStatus }) {
  return <span class={`badge badge--${status}`} data-status={status}>{STATUS_LABELS[status]}</span>
}
