import t from 'tap'
import { ORDER_LIMITS } from '@orders/contracts'
import { itemsFromRows, limitHints, runningTotal } from '../client/order-form.ts'

t.test('rows become the request body, prices in minor units', async t => {
  const rows = [{ key: 1, sku: ' BOOK-42 ', quantity: '3', unitPrice: '4.99' }, { key: 2, sku: 'PEN', quantity: '1', unitPrice: '1' }]
  t.same(itemsFromRows(rows, 'EUR'), { items: [{ sku: 'BOOK-42', quantity: 3, unit_price: 499 }, { sku: 'PEN', quantity: 1, unit_price: 100 }] })
  t.equal(runningTotal(rows, 'EUR'), 1597, '3 × 4.99 + 1.00 = 15.97')
})

t.test('every problem of every row is found at once, before sending, in the API\'s words', async t => {
  const rows = [
    { key: 1, sku: 'bad sku', quantity: '2.5', unitPrice: '4.999' },
    { key: 2, sku: '', quantity: '', unitPrice: '' },
    { key: 3, sku: 'X'.repeat(65), quantity: '-1', unitPrice: '0' },
    { key: 4, sku: 'OK', quantity: '1001', unitPrice: '1000000.01' }
  ]
  const result = itemsFromRows(rows, 'EUR')
  t.same(result, {
    errors: {
      'items.0.sku': "SKU may contain letters, digits, '.', '_' and '-'.",
      'items.0.quantity': 'Quantity must be a whole number.',
      'items.0.unit_price': 'Unit price must be an amount like 4.99.',
      'items.1.sku': 'SKU is required.',
      'items.1.quantity': 'Quantity is required.',
      'items.1.unit_price': 'Unit price is required.',
      'items.2.sku': 'SKU must have at most 64 characters.',
      'items.2.quantity': 'Quantity must be at least 1.',
      'items.2.unit_price': `Unit price must be at least ${new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' }).format(0.01)}.`,
      'items.3.quantity': 'Quantity must be at most 1000.',
      'items.3.unit_price': `Unit price must be at most ${new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' }).format(1_000_000)}.`
    }
  })
})

t.test('the running total leaves out what would be refused', async t => {
  // The example: 498,999,999,995.01 showed before the server refused the quantity.
  const rows = [{ key: 1, sku: 'A', quantity: '4990000', unitPrice: '99999.99' }, { key: 2, sku: 'B', quantity: '1', unitPrice: '0.01' }]
  t.equal(runningTotal(rows, 'EUR'), 1)
})

t.test('the hints state the contract\'s limits', async t => {
  const hints = limitHints('EUR')
  t.match(hints.sku, String(ORDER_LIMITS.sku.maxLength))
  t.match(hints.quantity, `${ORDER_LIMITS.quantity.minimum} to ${ORDER_LIMITS.quantity.maximum.toLocaleString()}`)
  t.match(hints.unit_price, /0[.,]01.*1[.,\u00a0’]?000[.,\u00a0’]?000/)
})
