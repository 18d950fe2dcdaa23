import { useRef, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api, ApiError } from '../api.ts'
import { FormField } from '../components/form-field.tsx'
import { ErrorMessage, Page } from '../components/page.tsx'
import { ORDER_LIMITS } from '@orders/contracts/order-limits'
import { formatMoney, minorDigits, OFFERED_CURRENCIES } from '../money.ts'
import { itemsFromRows, limitHints, newIdempotencyKey, runningTotal, type FormErrors, type ItemRow } from '../order-form.ts'
import { shortOrderId } from '../orders.ts'
import { useSession } from '../session-context.tsx'
import { focusFirstInvalid } from './forms.ts'

const MAX_ROWS = ORDER_LIMITS.items.maxItems

export function NewOrderPage () {
  const { route } = useLocation()
  const { tokens, setNotice } = useSession()
  const nextKey = useRef(1)
  const emptyRow = (): ItemRow => ({ key: nextKey.current++, sku: '', quantity: '1', unitPrice: '' })
  const [rows, setRows] = useState<ItemRow[]>(() => [emptyRow()])
  const [currency, setCurrency] = useState<string>(OFFERED_CURRENCIES[0])
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
    const parsed = itemsFromRows(rows, currency)
    if ('errors' in parsed) {
      setErrors(parsed.errors)
      const count = Object.keys(parsed.errors).length
      setMessage(count === 1 ? 'One field needs attention.' : `${count} fields need attention.`)
      focusFirstInvalid(form)
      return
    }
    setErrors({})
    setBusy(true)
    try {
      const order = await api.placeOrder(tokens, { items: parsed.items, currency }, idempotencyKey.current)
      setNotice(`Order ${shortOrderId(order.id)} placed; total ${formatMoney(order.total, order.currency)}.`)
      route('/')
    } catch (err) {
      const error = err as ApiError
      setErrors(error.fields)
      setMessage(error.message)
      setBusy(false)
      focusFirstInvalid(form)
    }
  }

  const hints = limitHints(currency)
  return (
    <Page title="Place an order">
      {message && <ErrorMessage>{message}</ErrorMessage>}
      <form onSubmit={submit} noValidate>
        {errors.items && <p class="field__error">{errors.items}</p>}
        <div class="field">
          <label for="order-currency">Currency</label>
          <p class="field__hint" id="order-currency-hint">Every unit price is in this currency.</p>
          <select id="order-currency" name="currency" value={currency} aria-describedby="order-currency-hint"
            onChange={event => { idempotencyKey.current = newIdempotencyKey(); setCurrency(event.currentTarget.value) }}>
            {OFFERED_CURRENCIES.map(code => <option key={code} value={code}>{code}</option>)}
          </select>
        </div>
        {rows.map((row, i) => (
          <fieldset key={row.key} class="item-row">
            <legend>Item {i + 1}</legend>
            <FormField id={`item-${row.key}-sku`} label="SKU" required autocomplete="off" spellcheck={false}
              hint={hints.sku} value={row.sku} onValue={sku => { edit(i, { sku }) }} error={errors[`items.${i}.sku`]} />
            <FormField id={`item-${row.key}-quantity`} label="Quantity" required inputMode="numeric"
              hint={hints.quantity} value={row.quantity} onValue={quantity => { edit(i, { quantity }) }} error={errors[`items.${i}.quantity`]} />
            <FormField id={`item-${row.key}-price`} label="Unit price" required inputMode={minorDigits(currency) === 0 ? 'numeric' : 'decimal'}
              placeholder={minorDigits(currency) === 0 ? '500' : '4.99'} hint={hints.unit_price} value={row.unitPrice} onValue={unitPrice => { edit(i, { unitPrice }) }} error={errors[`items.${i}.unit_price`]} />
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
        <p class="order-total">Total: <output aria-live="off">{formatMoney(runningTotal(rows, currency), currency)}</output></p>
        <button type="submit" class="button button--primary" disabled={busy}>{busy ? 'Placing the order…' : 'Place order'}</button>
      </form>
    </Page>
  )
}
