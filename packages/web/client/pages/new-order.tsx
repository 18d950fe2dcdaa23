import { useRef, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api, ApiError } from '../api.ts'
import { FormField } from '../components/form-field.tsx'
import { ErrorMessage, Page } from '../components/page.tsx'
import { formatMoney } from '../money.ts'
import { itemsFromRows, newIdempotencyKey, runningTotal, type FormErrors, type ItemRow } from '../order-form.ts'
import { shortOrderId } from '../orders.ts'
import { useSession } from '../session-context.tsx'
import { focusFirstInvalid } from './forms.ts'

/** The API's limit on rows per order. */
const MAX_ROWS = 100

export function NewOrderPage () {
  const { route } = useLocation()
  const { session, setNotice } = useSession()
  const nextKey = useRef(1)
  const emptyRow = (): ItemRow => ({ key: nextKey.current++, sku: '', quantity: '1', unitPrice: '' })
  const [rows, setRows] = useState<ItemRow[]>(() => [emptyRow()])
  const [errors, setErrors] = useState<FormErrors>({})
  const [message, setMessage] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  // Kept while the form is unchanged, so sending it again cannot place a second order.
  const idempotencyKey = useRef(newIdempotencyKey())

  function edit (index: number, change: Partial<ItemRow>) {
    idempotencyKey.current = newIdempotencyKey()
    setRows(current => current.map((row, i) => (i === index ? { ...row, ...change } : row)))
  }

  function removeRow (index: number) {
    idempotencyKey.current = newIdempotencyKey()
    setRows(current => current.filter((_, i) => i !== index))
    setErrors({})
  }

  async function submit (event: SubmitEvent) {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    setMessage(null)
    const parsed = itemsFromRows(rows)
    if ('errors' in parsed) {
      setErrors(parsed.errors)
      setMessage('Some rows need attention.')
      focusFirstInvalid(form)
      return
    }
    setErrors({})
    setBusy(true)
    try {
      const order = await api.placeOrder(session!.token, parsed.items, idempotencyKey.current)
      setNotice(`Order ${shortOrderId(order.id)} placed; total ${formatMoney(order.total)}.`)
      route('/')
    } catch (err) {
      const error = err as ApiError
      setErrors(error.fields)
      setMessage(error.message)
      setBusy(false)
      focusFirstInvalid(form)
    }
  }

  return (
    <Page title="Place an order">
      {message && <ErrorMessage>{message}</ErrorMessage>}
      <form onSubmit={submit} noValidate>
        {errors.items && <p class="field__error">{errors.items}</p>}
        {rows.map((row, i) => (
          <fieldset key={row.key} class="item-row">
            <legend>Item {i + 1}</legend>
            <FormField id={`item-${row.key}-sku`} label="SKU" required autocomplete="off" spellcheck={false}
              value={row.sku} onValue={sku => { edit(i, { sku }) }} error={errors[`items.${i}.sku`]} />
            <FormField id={`item-${row.key}-quantity`} label="Quantity" required inputMode="numeric"
              value={row.quantity} onValue={quantity => { edit(i, { quantity }) }} error={errors[`items.${i}.quantity`]} />
            <FormField id={`item-${row.key}-price`} label="Unit price" required inputMode="decimal" placeholder="4.99"
              value={row.unitPrice} onValue={unitPrice => { edit(i, { unitPrice }) }} error={errors[`items.${i}.unit_price`]} />
            {rows.length > 1 && (
              <button type="button" class="button button--quiet" onClick={() => { removeRow(i) }}>
                Remove<span class="visually-hidden"> item {i + 1}</span>
              </button>
            )}
          </fieldset>
        ))}
        <p>
          <button type="button" class="button" disabled={rows.length >= MAX_ROWS}
            onClick={() => { idempotencyKey.current = newIdempotencyKey(); setRows(current => [...current, emptyRow()]) }}>
            Add another item
          </button>
        </p>
        <p class="order-total">Total: <output aria-live="off">{formatMoney(runningTotal(rows))}</output></p>
        <button type="submit" class="button button--primary" disabled={busy}>{busy ? 'Placing the order…' : 'Place order'}</button>
      </form>
    </Page>
  )
}
