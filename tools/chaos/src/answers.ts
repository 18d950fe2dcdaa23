import type { LoadAnswer } from './load.ts'

export interface FaultWindow { fault: string, from: number, to: number }

/** One row per fault (the requests started while it lasted) and one for the time between faults. */
export function faultTable (windows: FaultWindow[], answers: LoadAnswer[]) {
  const rows = windows.map(({ fault, from, to }) => {
    const during = answers.filter(a => a.startedAt >= from && a.startedAt <= to)
    return { fault, 'until back (s)': ((to - from) / 1000).toFixed(1), ...countAnswers(during) }
  })
  const steady = answers.filter(a => !windows.some(w => a.startedAt >= w.from && a.startedAt <= w.to))
  rows.push({ fault: '(between faults)', 'until back (s)': '-', ...countAnswers(steady) })
  return rows
}

export function countAnswers (answers: LoadAnswer[]) {
  return {
    requests: answers.length,
    'accepted (201)': answers.filter(a => a.status === 201).length,
    'failed (5xx)': answers.filter(a => a.status >= 500).length,
    'no answer': answers.filter(a => a.status === 0).length,
    other: answers.filter(a => a.status !== 201 && a.status < 500 && a.status !== 0).length
  }
}
