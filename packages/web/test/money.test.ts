import t from 'tap'
import { formatMoney, parseMoney } from '../client/money.ts'

t.test('amounts typed as money become minor units exactly', async t => {
  t.equal(parseMoney('4.99'), 499)
  t.equal(parseMoney('5'), 500)
  t.equal(parseMoney('0.5'), 50)
  t.equal(parseMoney(' 100000.01 '), 10_000_001)
  t.equal(parseMoney('0.07'), 7, 'no floating-point drift (0.07 * 100 is 7.000000000000001)')
})

t.test('anything else is not an amount', async t => {
  for (const text of ['', ' ', '4.999', '-1', '1,5', '1e3', 'abc', '.5', '4.', '1 000']) t.equal(parseMoney(text), null, JSON.stringify(text))
})

t.test('minor units are shown with two decimals and grouped thousands', async t => {
  t.equal(formatMoney(1597), '15.97')
  t.equal(formatMoney(0), '0.00')
  t.equal(formatMoney(7), '0.07')
  t.equal(formatMoney(10_000_001), '100,000.01')
  t.equal(formatMoney(-250), '-2.50')
})
