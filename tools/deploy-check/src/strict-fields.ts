/**
 * kubernetes-models validates types and required fields but lets unknown fields through (a
 * misspelt `readinesProbe` is silently dropped by the API server too). Its validators are
 * compiled JSON schemas that read each property the schema knows, and read every key of a
 * free-form map: so wrapping a manifest in proxies that record what was read, and running the
 * model's own validate(), leaves exactly the unknown fields unread.
 */
export interface ValidatingModel { validate: () => void }

export function validateStrictly (model: ValidatingModel & Record<string, unknown>, where: string): string[] {
  const reads = new Map<object, Set<string | symbol>>()
  const proxies = new WeakMap<object, object>()
  function watch (value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value
    const cached = proxies.get(value)
    if (cached) return cached
    const seen = new Set<string | symbol>()
    reads.set(value, seen)
    const proxy = new Proxy(value, {
      get (target, key, receiver) {
        seen.add(key)
        return watch(Reflect.get(target, key, receiver))
      },
      ownKeys (target) {
        // Enumerated (a map such as labels or env-free data): every key counts as known.
        for (const key of Reflect.ownKeys(target)) seen.add(key)
        return Reflect.ownKeys(target)
      }
    })
    proxies.set(value, proxy)
    return proxy
  }

  const originals: Array<[string, unknown]> = []
  for (const key of Object.keys(model)) {
    if (key === 'apiVersion' || key === 'kind') continue
    originals.push([key, model[key]])
    model[key] = watch(model[key])
  }
  try {
    model.validate()
  } finally {
    for (const [key, value] of originals) model[key] = value
  }

  const unknown: string[] = []
  function collect (value: unknown, at: string): void {
    if (typeof value !== 'object' || value === null) return
    const seen = reads.get(value)
    if (!seen) return // never reached by the validator: its parent is reported
    for (const [key, child] of Object.entries(value)) {
      const here = Array.isArray(value) ? `${at}[${key}]` : `${at}.${key}`
      if (!Array.isArray(value) && !seen.has(key)) unknown.push(`${where}: unknown field ${here}`)
      else collect(child, here)
    }
  }
  for (const [key, value] of originals) collect(value, key)
  return unknown
}
