/**
 * "Cancel order" on an order's page, while it is still new: a confirmation in a modal
 * <dialog> (the browser keeps focus inside it, Escape closes it and focus returns to the
 * button), then POST /orders/{id}/cancel. A 409 means the processor took the order first: the
 * order is read again and the refusal said in words.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import type { Order } from '@orders/contracts'
import { api, type AccessTokens, type ApiError } from '../api.ts'
import { canCancel, cancelRefusal, secondsLeft, shortOrderId } from '../orders.ts'
import { ErrorMessage, Notice } from './page.tsx'

type Outcome = { kind: 'cancelled' } | { kind: 'error', message: string }

export function CancelOrder ({ order, tokens, onOrder }: { order: Order, tokens: AccessTokens, onOrder: (order: Order) => void }) {
  const dialog = useRef<HTMLDialogElement>(null)
  const keep = useRef<HTMLButtonElement>(null)
  const outcomeBox = useRef<HTMLDivElement>(null)
  const [busy, setBusy] = useState(false)
  const [outcome, setOutcome] = useState<Outcome | null>(null)
  const left = useSecondsLeft(order.cancellable_until, canCancel(order))

  // The button that opened the dialog may be gone (the order is no longer new): the outcome
  // takes focus, so keyboard and screen-reader users land on what happened.
  useEffect(() => { if (outcome) outcomeBox.current?.focus() }, [outcome])

  function ask () {
    setOutcome(null)
    dialog.current?.showModal()
    // The safe choice first: Enter right away keeps the order.
    keep.current?.focus()
  }

  async function cancel () {
    setBusy(true)
    try {
      onOrder(await api.cancelOrder(tokens, order.id))
      setOutcome({ kind: 'cancelled' })
    } catch (err) {
      const error = err as ApiError
      let message = error.message
      if (error.status === 409) {
        const fresh = await api.getOrder(tokens, order.id).catch(() => null)
        if (fresh) {
          onOrder(fresh)
          message = cancelRefusal(fresh.status)
        }
      }
      setOutcome({ kind: 'error', message })
    } finally {
      setBusy(false)
      dialog.current?.close()
    }
  }

  const short = shortOrderId(order.id)
  return (
    <>
      {outcome && (
        <div ref={outcomeBox} tabIndex={-1} class="cancel-outcome">
          {outcome.kind === 'cancelled'
            ? <Notice>Order {short} is cancelled.</Notice>
            : <ErrorMessage>{outcome.message}</ErrorMessage>}
        </div>
      )}
      {canCancel(order) && (
        <div class="cancel-order">
          <button type="button" class="button button--danger-outline" onClick={ask} aria-describedby="cancel-order-time">Cancel order</button>
          {/* Not a live region: a sentence read out every second would drown everything else. */}
          <p class="cancel-order__time" id="cancel-order-time" data-seconds-left={left}>
            {left > 0
              ? `Processing starts in ${left} s; until then a cancel always succeeds.`
              : 'Processing may start at any moment.'}
          </p>
        </div>
      )}
      <dialog ref={dialog} class="confirm" aria-labelledby="cancel-order-title" aria-describedby="cancel-order-text"
        // While the request runs, Escape does not hide it: its answer is still to come.
        onCancel={event => { if (busy) event.preventDefault() }}>
        <h2 id="cancel-order-title">Cancel order {short}?</h2>
        <p id="cancel-order-text">It will not be processed and nothing will be charged. This cannot be undone.</p>
        <div class="confirm__actions">
          <button ref={keep} type="button" class="button" disabled={busy} onClick={() => { dialog.current?.close() }}>Keep order</button>
          <button type="button" class="button button--danger" disabled={busy} aria-busy={busy} onClick={cancel}>
            {busy ? 'Cancelling…' : 'Yes, cancel order'}
          </button>
        </div>
      </dialog>
    </>
  )
}

/** Seconds left of the grace period, ticking once a second while `active`. */
function useSecondsLeft (until: string, active: boolean): number {
  const [now, setNow] = useState(() => Date.now())
  const left = secondsLeft(until, now)
  useEffect(() => {
    if (!active || left === 0) return
    // Aligned to the next whole second of what is left, so the number never skips.
    const timer = setTimeout(() => { setNow(Date.now()) }, (Date.parse(until) - Date.now()) % 1000 || 1000)
    return () => { clearTimeout(timer) }
  }, [until, active, now])
  return left
}
