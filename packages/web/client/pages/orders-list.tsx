import { useEffect, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import type { Order, OrderStatus } from '@orders/contracts'
import { api, ApiError } from '../api.ts'
import { StatusBadge } from '../components/status-badge.tsx'
import { ErrorMessage, Notice, Page, Timestamp } from '../components/page.tsx'
import { formatMoney } from '../money.ts'
import { appendPage, applyOrderUpdate, itemSummary, resynchronise, shortOrderId, STATUS_LABELS, type OrderList } from '../orders.ts'
import { useLiveOrders, useNotice, useSession } from '../session-context.tsx'

const PAGE_SIZE = 20
/** GET /orders answers at most 100 per request. */
const MAX_PAGE_SIZE = 100

/** `?status=new` → 'new'; anything that is not a status → every status. */
function statusFrom (query: Record<string, string>): OrderStatus | null {
  const status = query.status
  return status !== undefined && status in STATUS_LABELS ? status as OrderStatus : null
}

export function OrdersListPage () {
  const { query, route } = useLocation()
  const status = statusFrom(query)
  const { tokens } = useSession()
  const notice = useNotice()
  const [list, setList] = useState<OrderList | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loadingMore, setLoadingMore] = useState(false)
  const [announcement, setAnnouncement] = useState('')

  useEffect(() => {
    setList(null)
    setError(null)
    api.listOrders(tokens, { limit: PAGE_SIZE, status })
      .then(page => { setList({ orders: page.orders, nextCursor: page.next_cursor }) })
      .catch((err: ApiError) => { setError(err.message) })
  }, [tokens, status])

  useLiveOrders(event => {
    if (event.kind === 'order') {
      const { order } = event
      setList(current => current && applyOrderUpdate(current, order, status))
      setAnnouncement(`Order ${shortOrderId(order.id)} is now ${STATUS_LABELS[order.status].toLowerCase()}.`)
      return
    }
    // (Re)connected: whatever changed while the socket was down is read again.
    const limit = Math.min(MAX_PAGE_SIZE, Math.max(PAGE_SIZE, list?.orders.length ?? 0))
    api.listOrders(tokens, { limit, status })
      .then(page => { setList(current => resynchronise(current ?? { orders: [], nextCursor: null }, { orders: page.orders, nextCursor: page.next_cursor })) })
      .catch(() => {}) // the next reconnect tries again; a session that ended signs out
  })

  async function loadMore () {
    if (!list?.nextCursor) return
    setLoadingMore(true)
    setError(null)
    try {
      const page = await api.listOrders(tokens, { limit: PAGE_SIZE, cursor: list.nextCursor, status })
      setList(current => current && appendPage(current, { orders: page.orders, nextCursor: page.next_cursor }))
    } catch (err) {
      setError((err as ApiError).message)
    } finally {
      setLoadingMore(false)
    }
  }

  return (
    <Page title="My orders">
      {notice && <Notice>{notice}</Notice>}
      <p><a class="button button--primary" href="/new-order">Place an order</a></p>
      <div class="status-filter">
        <label for="status-filter">Show</label>
        <select id="status-filter" value={status ?? ''}
          onChange={event => { const value = event.currentTarget.value; route(value === '' ? '/' : `/?status=${value}`) }}>
          <option value="">All orders</option>
          {Object.entries(STATUS_LABELS).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
        </select>
      </div>
      {error && <ErrorMessage>{error}</ErrorMessage>}
      {list === null && error === null && <p aria-busy="true">Loading your orders…</p>}
      {list?.orders.length === 0 && <p>{status === null ? 'You have no orders yet.' : `You have no ${STATUS_LABELS[status].toLowerCase()} orders.`}</p>}
      {list && list.orders.length > 0 && (
        <ol class="order-list" aria-label={status === null ? 'Orders, newest first' : `${STATUS_LABELS[status]} orders, newest first`}>
          {list.orders.map(order => <OrderRow key={order.id} order={order} />)}
        </ol>
      )}
      {list?.nextCursor && (
        <button type="button" class="button" onClick={loadMore} disabled={loadingMore}>{loadingMore ? 'Loading…' : 'Load more'}</button>
      )}
      <p class="visually-hidden" role="status">{announcement}</p>
    </Page>
  )
}

function OrderRow ({ order }: { order: Order }) {
  const lines = order.items.length
  return (
    <li class="order-card" data-order-id={order.id}>
      <a class="order-card__link" href={`/my-orders/${order.id}`}>Order {shortOrderId(order.id)}</a>
      <StatusBadge status={order.status} />
      <span class="order-card__total">{formatMoney(order.total, order.currency)}</span>
      <span class="order-card__meta">{lines} {lines === 1 ? 'line' : 'lines'} · <Timestamp iso={order.created_at} /></span>
      <p class="order-card__items">{itemSummary(order.items)}</p>
    </li>
  )
}
