import t from 'tap'
import { decideRefresh, newSessionTimes, type PresentedRefreshToken } from '../../src/session-rules.ts'

const HOUR = 3600_000
const lifetimes = { idleMs: 2 * HOUR, absoluteMs: 10 * HOUR }
const start = new Date('2030-01-01T00:00:00Z')
const at = (hours: number) => new Date(start.getTime() + hours * HOUR)

function token (overrides: Partial<PresentedRefreshToken['session']> & { usedAt?: Date | null } = {}): PresentedRefreshToken {
  const { usedAt = null, ...session } = overrides
  return { usedAt, session: { ...newSessionTimes(start, lifetimes), revokedAt: null, revokedReason: null, ...session } }
}

t.test('a new session ends at the idle lifetime unless used, and at the absolute one in any case', async t => {
  t.same(newSessionTimes(start, lifetimes), { createdAt: start, expiresAt: at(10), idleExpiresAt: at(2) })
  t.same(newSessionTimes(start, { idleMs: 20 * HOUR, absoluteMs: 10 * HOUR }).idleExpiresAt, at(10), 'the idle expiry never passes the absolute one')
})

t.test('an unused token of a live session is rotated, and the session lives on for the idle lifetime', async t => {
  t.same(decideRefresh(token(), at(1), lifetimes), { kind: 'rotate', idleExpiresAt: at(3) })
  t.same(decideRefresh(token({ idleExpiresAt: at(9.5) }), at(9), lifetimes), { kind: 'rotate', idleExpiresAt: at(10) }, 'but not past its absolute end')
})

t.test('a used token of a live session ends it', async t => {
  t.same(decideRefresh(token({ usedAt: at(0.5) }), at(1), lifetimes), { kind: 'end-for-reuse' })
})

t.test('refusals say why', async t => {
  t.same(decideRefresh(undefined, at(1), lifetimes), { kind: 'refuse', reason: 'invalid' }, 'unknown token')
  t.same(decideRefresh(token(), at(2), lifetimes), { kind: 'refuse', reason: 'expired' }, 'idle too long')
  t.same(decideRefresh(token({ idleExpiresAt: at(10) }), at(10), lifetimes), { kind: 'refuse', reason: 'expired' }, 'past its absolute end')
  t.same(decideRefresh(token({ usedAt: at(1) }), at(3), lifetimes), { kind: 'refuse', reason: 'expired' }, 'an ended session is not ended again for reuse')
  t.same(decideRefresh(token({ revokedAt: at(1), revokedReason: 'logout' }), at(1.5), lifetimes), { kind: 'refuse', reason: 'signed_out' })
  t.same(decideRefresh(token({ revokedAt: at(1), revokedReason: 'reuse' }), at(1.5), lifetimes), { kind: 'refuse', reason: 'reused' })
  t.same(decideRefresh(token({ revokedAt: at(1), revokedReason: 'operator' }), at(1.5), lifetimes), { kind: 'refuse', reason: 'revoked' })
  t.same(decideRefresh(token({ revokedAt: at(1), revokedReason: null }), at(1.5), lifetimes), { kind: 'refuse', reason: 'revoked' }, 'ended with SQL, no reason given')
})
