import t from 'tap'
import { formatMoney, minorDigits, parseMoney } from '../client/money.ts'

t.test('amounts typed as money become minor units of the currency exactly', async t => {
  t.equal(parseMoney('4.99', 'EUR'), 499)
  t.equal(parseMoney('5', 'EUR'), 500)
  t.equal(parseMoney('0.5', 'EUR'), 50)
  t.equal(parseMoney('4,99', 'EUR'), 499, 'a decimal comma reads like a point')
  t.equal(parseMoney(' 100000.01 ', 'USD'), 10_000_001)
  t.equal(parseMoney('0.07', 'EUR'), 7, 'no floating-point drift (0.07 * 100 is 7.000000000000001)')
  t.equal(parseMoney('500', 'JPY'), 500, 'yen have no minor unit')
  t.equal(parseMoney('1.234', 'KWD'), 1234, 'dinars have three digits')
})

t.test('anything else is not an amount', async t => {
  for (const text of ['', ' ', '4.999', '-1', '1e3', 'abc', '.5', '4.', '1 000']) t.equal(parseMoney(text, 'EUR'), null, JSON.stringify(text))
  t.equal(parseMoney('5.5', 'JPY'), null, 'no fractions of a yen')
})

t.test('minor units are shown as the currency, in the locale asked for', async t => {
  t.equal(formatMoney(1597, 'EUR', 'en-US'), '€15.97')
  t.equal(formatMoney(1597, 'EUR', 'de-DE'), '15,97\u00a0€')
  t.equal(formatMoney(10_000_001, 'USD', 'en-US'), '$100,000.01')
  t.match(formatMoney(10_000_001, 'USD', 'de-CH'), /^\$\s100\S000\.01$/u, 'Swiss grouping, not en-US')
  t.equal(formatMoney(500, 'JPY', 'ja-JP'), '￥500')
  t.equal(formatMoney(0, 'GBP', 'en-GB'), '£0.00')
  t.equal(minorDigits('EUR'), 2)
  t.equal(minorDigits('JPY'), 0)
})
