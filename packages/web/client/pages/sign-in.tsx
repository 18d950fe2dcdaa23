import { useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api } from '../api.ts'
import { FormField } from '../components/form-field.tsx'
import { ErrorMessage, Notice, Page } from '../components/page.tsx'
import { useNotice, useSession } from '../session-context.tsx'
import { useApiSubmit } from './forms.ts'

export function SignInPage () {
  const { query } = useLocation()
  const { signIn, lastEmail } = useSession()
  const notice = useNotice()
  const [email, setEmail] = useState(query.email ?? lastEmail ?? '')
  const [password, setPassword] = useState('')
  const { submit, error, busy } = useApiSubmit(async () => {
    const login = await api.login(email.trim(), password)
    // Signed in: the page's guard (app.tsx) takes the person where they were going.
    signIn(email.trim(), login)
  }, {
    // Wrong credentials: try the password again.
    onRefused: () => { setPassword('') },
    focusOnRefusal: '#password'
  })

  return (
    <Page title="Sign in">
      {notice && <Notice>{notice}</Notice>}
      {error && <ErrorMessage>{error.message}</ErrorMessage>}
      <form onSubmit={submit} noValidate>
        <FormField id="email" label="Email" type="email" autocomplete="username" required value={email} onValue={setEmail} />
        <FormField id="password" label="Password" type="password" autocomplete="current-password" required value={password} onValue={setPassword} />
        <button type="submit" class="button button--primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <p>New here? <a href="/register">Create an account</a>.</p>
    </Page>
  )
}
