import { useEffect, useState } from 'preact/hooks'
import { useRoute } from 'preact-iso'
import type { Order } from '@orders/contracts'
import { api, ApiError } from '../api.ts'
import { CancelOrder } from '../components/cancel-order.tsx'
import { ErrorMessage, Page, Timestamp } from '../components/page.tsx'
import { StatusBadge } from '../components/status-badge.tsx'
import { formatMoney } from '../money.ts'
import { FAILURE_REASON_TEXT, laterVersion, shortOrderId } from '../orders.ts'
import { useLiveOrders, useSession } from '../session-context.tsx'

export function OrderDetailPage () {
  const { params } = useRoute()
  const id = params.id ?? ''
  const { tokens } = useSession()
  const [order, setOrder] = useState<Order | null>(null)
  const [error, setError] = useState<string | null>(null)

  /** A version of the order from anywhere (GET, the live feed, a cancel): the later one is kept. */
  const update = (fresh: Order) => { setOrder(current => (current ? laterVersion(current, fresh) : fresh)) }
  const load = () => {
    api.getOrder(tokens, id)
      .then(fresh => { update(fresh) })
      .catch((err: ApiError) => { setError(err.message) })
  }
  useEffect(() => { setOrder(null); setError(null); load() }, [tokens, id])

  useLiveOrders(event => {
    if (event.kind === 'connected') load()
    else if (event.order.id === id) update(event.order)
  })

  return (
    <Page title={order ? `Order ${shortOrderId(order.id)}` : 'Order'}>
      <p><a href="/">← My orders</a></p>
      {error && <ErrorMessage>{error}</ErrorMessage>}
      {order === null && error === null && <p aria-busy="true">Loading the order…</p>}
      {order && (
        <>
          <dl class="order-facts">
            <dt>Status</dt>
            <dd aria-live="polite"><StatusBadge status={order.status} /></dd>
            {order.failure_reason && (
              <>
                <dt>Why it failed</dt>
                <dd class="order-facts__failure">{FAILURE_REASON_TEXT[order.failure_reason]}</dd>
              </>
            )}
            <dt>Currency</dt>
            <dd>{order.currency}</dd>
            <dt>Total</dt>
            <dd>{formatMoney(order.total, order.currency)}</dd>
            <dt>Placed</dt>
            <dd><Timestamp iso={order.created_at} /></dd>
            <dt>Last change</dt>
            <dd><Timestamp iso={order.updated_at} /></dd>
            <dt>Order number</dt>
            <dd class="order-facts__id">{order.id}</dd>
          </dl>
          <CancelOrder key={order.id} order={order} tokens={tokens} onOrder={update} />
          <div class="table-scroll">
            <table class="items">
              <caption>Items</caption>
              <thead>
                <tr><th scope="col">SKU</th><th scope="col" class="number">Quantity</th><th scope="col" class="number">Unit price</th><th scope="col" class="number">Amount</th></tr>
              </thead>
              <tbody>
                {order.items.map((item, i) => (
                  <tr key={i}>
                    <th scope="row">{item.sku}</th>
                    <td class="number">{item.quantity}</td>
                    <td class="number">{formatMoney(item.unit_price, order.currency)}</td>
                    <td class="number">{formatMoney(item.quantity * item.unit_price, order.currency)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr><th scope="row" colSpan={3}>Total</th><td class="number">{formatMoney(order.total, order.currency)}</td></tr>
              </tfoot>
            </table>
          </div>
        </>
      )}
    </Page>
  )
}
