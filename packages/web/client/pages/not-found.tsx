import { Page } from '../components/page.tsx'

export function NotFoundPage () {
  return (
    <Page title="Page not found">
      <p>There is nothing at this address. <a href="/">Go to my orders</a>.</p>
    </Page>
  )
}
