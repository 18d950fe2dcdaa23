import { useState } from 'preact/hooks'
import type { ApiError } from '../api.ts'

/** After a failed submit: put the keyboard where the problem is. */
export function focusFirstInvalid (form: HTMLFormElement, fallback = 'input'): void {
  // After the render that marks the fields invalid.
  requestAnimationFrame(() => {
    const target = form.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form.querySelector<HTMLElement>(fallback)
    target?.focus()
  })
}

/**
 * The submit of a form that sends one API request: busy while it runs, the API's refusal kept
 * for the render (per field), then the keyboard put where the problem is. On success the action
 * moves on (it routes away), so the form stays busy.
 */
export function useApiSubmit (action: () => Promise<void>, options: { onRefused?: () => void, focusOnRefusal?: string } = {}) {
  const [error, setError] = useState<ApiError | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit (event: SubmitEvent) {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    setBusy(true)
    setError(null)
    try {
      await action()
    } catch (err) {
      setError(err as ApiError)
      setBusy(false)
      options.onRefused?.()
      focusFirstInvalid(form, options.focusOnRefusal)
    }
  }

  return { submit, error, busy }
}
