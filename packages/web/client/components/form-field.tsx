/** The input attributes the app's forms use. */
interface InputProps {
  type?: 'text' | 'email' | 'password'
  autocomplete?: string
  inputMode?: 'text' | 'numeric' | 'decimal' | 'email'
  placeholder?: string
  required?: boolean
  spellcheck?: boolean
}

interface FormFieldProps extends InputProps {
  id: string
  label: string
  value: string
  onValue: (value: string) => void
  /** Shown under the input and tied to it with aria-describedby. */
  hint?: string
  error?: string | undefined
}

/** A labelled input with its hint and its error, wired up for screen readers. */
export function FormField ({ id, label, value, onValue, hint, error, type = 'text', ...input }: FormFieldProps) {
  const hintId = hint ? `${id}-hint` : undefined
  const errorId = error ? `${id}-error` : undefined
  const attributes = {
    ...input,
    id,
    name: id,
    value,
    onInput: (event: { currentTarget: HTMLInputElement }) => { onValue(event.currentTarget.value) },
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') || undefined
  }
  return (
    <div class={`field${error ? ' field--invalid' : ''}`}>
      <label for={id}>{label}</label>
      {hint && <p class="field__hint" id={hintId}>{hint}</p>}
      {/* One element per type: Preact's types tie the allowed attributes to a literal type. */}
      {type === 'email' ? <input type="email" {...attributes} /> : type === 'password' ? <input type="password" {...attributes} /> : <input type="text" {...attributes} />}
      {error && <p class="field__error" id={errorId}>{error}</p>}
    </div>
  )
}
