import t from 'tap'
import { describeApiError, fieldSentences } from '../client/api-errors.ts'

// A 400 for invalid input carries one plain sentence per field (platform/validation.ts).
t.test('the API\'s field errors are shown at their form fields, under the form\'s labels', async t => {
  t.same(fieldSentences([
    { field: 'items.0.sku', message: '"sku" may contain letters, digits, \'.\', \'_\' and \'-\'' },
    { field: 'items.2.quantity', message: '"quantity" must be at most 1000' },
    { field: 'email', message: '"email" must be an email address, like ada@example.com' },
    { field: 'password', message: '"password" is required' }
  ]), {
    'items.0.sku': "SKU may contain letters, digits, '.', '_' and '-'.",
    'items.2.quantity': 'Quantity must be at most 1000.',
    email: 'Email must be an email address, like ada@example.com.',
    password: 'Password is required.'
  })
})

t.test('one field error is the alert itself; several are counted on', async t => {
  t.same(describeApiError('place-order', 400, '"quantity" must be a whole number', [{ field: 'items.0.quantity', message: '"quantity" must be a whole number' }]),
    { message: 'Quantity must be a whole number.', fields: { 'items.0.quantity': 'Quantity must be a whole number.' } })
  t.match(describeApiError('place-order', 400, 'a; b', [{ field: 'items.0.sku', message: '"sku" is required' }, { field: 'currency', message: '"currency" must be …' }]),
    { message: 'Some fields need attention.', fields: { 'items.0.sku': 'SKU is required.', currency: 'Currency must be ….' } })
})

t.test('every status reads as a sentence that fits what the person was doing', async t => {
  t.same(describeApiError('login', 401, 'Invalid email or password'), { message: 'Wrong email or password.', fields: {} })
  t.match(describeApiError('load-orders', 401, 'token expired').message, /session has expired/)
  t.match(describeApiError('register', 409, 'An account with this email already exists'), { message: /already exists/, fields: { email: /already registered/ } })
  t.match(describeApiError('load-order', 404, 'Order not found').message, /no such order/)
  t.match(describeApiError('place-order', 503, '{"raw":"json"}').message, /unavailable/)
  t.match(describeApiError('place-order', 500, 'Internal Server Error').message, /went wrong/)
  t.match(describeApiError('place-order', 400, 'body must be object').message, /did not accept/)
})

t.test('a refused cancel reads as a sentence, not as the API\'s message', async t => {
  t.equal(describeApiError('cancel-order', 409, 'Only a new order can be cancelled; this one is processing').message,
    'This order can no longer be cancelled: it is already being processed.')
  t.equal(describeApiError('cancel-order', 404, 'Order not found').message, 'There is no such order among yours.')
  t.match(describeApiError('place-order', 409, 'Idempotency-Key reused').message, /already placed with different contents/, 'other 409s unchanged')
})
