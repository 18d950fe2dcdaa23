import t from 'tap'
import { describeApiError, validationProblem } from '../client/api-errors.ts'

// The messages as the services send them (Fastify: "<part><instancePath> <ajv message>").
t.test('a validation message is mapped to its form field, in words', async t => {
  t.same(validationProblem('body/items/0/sku must match pattern "^[A-Za-z0-9._-]+$"'),
    { field: 'items.0.sku', sentence: 'SKU may only contain letters, digits, dots, dashes and underscores.' })
  t.same(validationProblem('body/items/2/quantity must be <= 1000'), { field: 'items.2.quantity', sentence: 'Quantity must be at most 1,000.' })
  t.same(validationProblem('body/items/0/quantity must be >= 1'), { field: 'items.0.quantity', sentence: 'Quantity must be at least 1.' })
  t.same(validationProblem('body/items/0/unit_price must be <= 100000000'), { field: 'items.0.unit_price', sentence: 'Unit price must be at most 1,000,000.00.' }, 'minor units read as money')
  t.same(validationProblem('body/items/0/sku must NOT have more than 64 characters'), { field: 'items.0.sku', sentence: 'SKU must have at most 64 characters.' })
  t.same(validationProblem('body/items/0/sku must NOT have fewer than 1 characters'), { field: 'items.0.sku', sentence: 'SKU is required.' })
  t.same(validationProblem('body/items must NOT have more than 100 items'), { field: 'items', sentence: 'The order can have at most 100 rows.' })
  t.same(validationProblem('body/email must match format "email"'), { field: 'email', sentence: 'Email must be an email address, like ada@example.com.' })
  t.same(validationProblem('body/password must NOT have fewer than 8 characters'), { field: 'password', sentence: 'Password must have at least 8 characters.' })
  t.same(validationProblem("body must have required property 'password'"), { field: 'password', sentence: 'Password is required.' })
})

t.test('other messages are not validation problems', async t => {
  t.equal(validationProblem('An account with this email already exists'), null)
  t.equal(validationProblem('querystring/limit must be <= 100'), null)
})

t.test('every status reads as a sentence that fits what the person was doing', async t => {
  t.same(describeApiError('login', 401, 'Invalid email or password'), { message: 'Wrong email or password.', fields: {} })
  t.match(describeApiError('load-orders', 401, 'token expired').message, /session has expired/)
  t.match(describeApiError('register', 409, 'An account with this email already exists'), { message: /already exists/, fields: { email: /already registered/ } })
  t.match(describeApiError('place-order', 400, 'body/items/0/quantity must be integer'), { message: 'Quantity must be a whole number.', fields: { 'items.0.quantity': 'Quantity must be a whole number.' } })
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
