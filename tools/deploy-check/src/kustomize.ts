/**
 * Enough of `kustomize build` for deploy/k8s, so the suite needs no kustomize binary (not in
 * Debian): resources (files and directories), labels, namespace, images, configMapGenerator
 * (without a hash suffix: the base turns it off) and strategic-merge patches. Anything else
 * in a kustomization.yaml is refused, so a new feature cannot be silently ignored. Where
 * kubectl is installed, the test compares this with `kubectl kustomize`.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { parse, parseAllDocuments } from 'yaml'

export type Manifest = Record<string, any> & { apiVersion: string, kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string> } }

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'labels', 'namespace', 'images', 'configMapGenerator', 'generatorOptions', 'patches'])
const CLUSTER_SCOPED = new Set(['Namespace'])

export async function kustomizeBuild (dir: string): Promise<Manifest[]> {
  const kustomization = parse(await readFile(path.join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, any>
  const unsupported = Object.keys(kustomization).filter(key => !SUPPORTED.has(key))
  if (unsupported.length > 0) throw new Error(`${dir}/kustomization.yaml: not supported by this check: ${unsupported.join(', ')}`)
  if (kustomization.configMapGenerator && kustomization.generatorOptions?.disableNameSuffixHash !== true) {
    throw new Error(`${dir}: configMapGenerator needs generatorOptions.disableNameSuffixHash here`)
  }

  let manifests: Manifest[] = []
  for (const resource of kustomization.resources ?? []) {
    const target = path.join(dir, resource)
    manifests.push(...((await stat(target)).isDirectory() ? await kustomizeBuild(target) : await readManifests(target)))
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {}
    for (const file of generator.files ?? []) data[path.basename(file)] = await readFile(path.join(dir, file), 'utf8')
    manifests.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data })
  }
  for (const patch of kustomization.patches ?? []) {
    for (const change of await readManifests(path.join(dir, patch.path))) {
      const target = manifests.find(m => m.kind === change.kind && m.metadata.name === change.metadata.name)
      if (!target) throw new Error(`${patch.path}: no ${change.kind} ${change.metadata.name} to patch`)
      manifests = manifests.map(m => m === target ? strategicMerge(m, change) as Manifest : m)
    }
  }
  for (const { pairs } of kustomization.labels ?? []) {
    for (const m of manifests) m.metadata.labels = { ...m.metadata.labels, ...pairs }
  }
  if (kustomization.namespace) {
    for (const m of manifests) if (!CLUSTER_SCOPED.has(m.kind)) m.metadata.namespace = kustomization.namespace
  }
  for (const image of kustomization.images ?? []) {
    for (const container of manifests.flatMap(containersOf)) {
      const [name] = String(container.image).split(':')
      if (name === image.name) container.image = `${image.newName ?? name}:${image.newTag}`
    }
  }
  return manifests
}

async function readManifests (file: string): Promise<Manifest[]> {
  return parseAllDocuments(await readFile(file, 'utf8')).map(doc => doc.toJS() as Manifest).filter(Boolean)
}

export function containersOf (manifest: Manifest): Array<Record<string, any>> {
  return manifest.spec?.template?.spec?.containers ?? []
}

/** Objects merge key by key; lists of objects with a `name` merge by name; other lists are replaced. */
function strategicMerge (base: unknown, change: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(change) && change.every(item => typeof item?.name === 'string')) {
    const merged = base.map(item => {
      const update = change.find(c => c.name === item?.name)
      return update ? strategicMerge(item, update) : item
    })
    return [...merged, ...change.filter(c => !base.some(item => item?.name === c.name))]
  }
  if (isObject(base) && isObject(change)) {
    const merged: Record<string, unknown> = { ...base }
    for (const [key, value] of Object.entries(change)) merged[key] = key in base ? strategicMerge(base[key], value) : value
    return merged
  }
  return change
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
