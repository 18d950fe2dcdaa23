import t from 'tap'
import { itemsFromRows, runningTotal } from '../client/order-form.ts'

t.test('rows become the request body, prices in minor units', async t => {
  const rows = [{ key: 1, sku: ' BOOK-42 ', quantity: '3', unitPrice: '4.99' }, { key: 2, sku: 'PEN', quantity: '1', unitPrice: '1' }]
  t.same(itemsFromRows(rows), { items: [{ sku: 'BOOK-42', quantity: 3, unit_price: 499 }, { sku: 'PEN', quantity: 1, unit_price: 100 }] })
  t.equal(runningTotal(rows), 1597, '3 × 4.99 + 1.00 = 15.97')
})

t.test('what cannot be sent is reported per field; the rules themselves are the server\'s', async t => {
  const rows = [{ key: 1, sku: 'bad sku', quantity: '2.5', unitPrice: '4.999' }, { key: 2, sku: '', quantity: '', unitPrice: '' }]
  t.same(itemsFromRows(rows), {
    errors: {
      'items.0.quantity': 'Quantity must be a whole number, like 3.',
      'items.0.unit_price': 'Unit price must be an amount like 4.99.',
      'items.1.quantity': 'Quantity is required.',
      'items.1.unit_price': 'Unit price is required.'
    }
  })
  t.equal(runningTotal(rows), 0)
})
