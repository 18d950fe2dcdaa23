/** After a failed submit: put the keyboard where the problem is. */
export function focusFirstInvalid (form: HTMLFormElement, fallback = 'input'): void {
  // After the render that marks the fields invalid.
  requestAnimationFrame(() => {
    const target = form.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form.querySelector<HTMLElement>(fallback)
    target?.focus()
  })
}
