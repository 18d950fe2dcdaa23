import { useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api } from '../api.ts'
import { FormField } from '../components/form-field.tsx'
import { ErrorMessage, Page } from '../components/page.tsx'
import { useSession } from '../session-context.tsx'
import { useApiSubmit } from './forms.ts'

/** The rules (email format, password length) are the server's; its answers show per field. */
export function RegisterPage () {
  const { route } = useLocation()
  const { setNotice } = useSession()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const { submit, error, busy } = useApiSubmit(async () => {
    const user = await api.register(email.trim(), password)
    setNotice(`Your account ${user.email} is ready. Sign in to place orders.`)
    route(`/sign-in?email=${encodeURIComponent(user.email)}`)
  })

  return (
    <Page title="Create an account">
      {error && <ErrorMessage>{error.message}</ErrorMessage>}
      <form onSubmit={submit} noValidate>
        <FormField id="email" label="Email" type="email" autocomplete="email" required value={email} onValue={setEmail} error={error?.fields.email} />
        <FormField id="password" label="Password" type="password" autocomplete="new-password" required hint="8 to 128 characters." value={password} onValue={setPassword} error={error?.fields.password} />
        <button type="submit" class="button button--primary" disabled={busy}>{busy ? 'Creating…' : 'Create account'}</button>
      </form>
      <p>Already registered? <a href="/sign-in">Sign in</a>.</p>
    </Page>
  )
}
