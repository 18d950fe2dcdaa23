import type { ComponentChildren } from 'preact'
import { useEffect, useRef } from 'preact/hooks'

let firstPage = true

/**
 * A page's heading and title. After a client-side navigation focus moves to the heading, so
 * keyboard and screen-reader users start at the new page, as after a full page load.
 */
export function Page ({ title, children }: { title: string, children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    document.title = `${title} · Orders`
    if (!firstPage) heading.current?.focus()
    firstPage = false
  }, [title])
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>{title}</h1>
      {children}
    </>
  )
}

/** An error in words, announced when it appears. */
export function ErrorMessage ({ children }: { children: ComponentChildren }) {
  return <div class="message message--error" role="alert">{children}</div>
}

/** A notice ("Order placed"), announced politely. */
export function Notice ({ children }: { children: ComponentChildren }) {
  return <div class="message message--notice" role="status">{children}</div>
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

export function Timestamp ({ iso }: { iso: string }) {
  return <time dateTime={iso}>{dateTime.format(new Date(iso))}</time>
}
