import { useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { api } from '../api.ts'
import { FormField } from '../components/form-field.tsx'
import { ErrorMessage, Notice, Page } from '../components/page.tsx'
import { sessionFromLogin } from '../session.ts'
import { useNotice, useSession } from '../session-context.tsx'
import { useApiSubmit } from './forms.ts'

export function SignInPage () {
  const { route, query } = useLocation()
  const { signIn, lastEmail, returnTo, setReturnTo } = useSession()
  const notice = useNotice()
  const [email, setEmail] = useState(query.email ?? lastEmail ?? '')
  const [password, setPassword] = useState('')
  const { submit, error, busy } = useApiSubmit(async () => {
    const login = await api.login(email.trim(), password)
    signIn(sessionFromLogin(email.trim(), login))
    setReturnTo(null)
    route(returnTo ?? '/')
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
