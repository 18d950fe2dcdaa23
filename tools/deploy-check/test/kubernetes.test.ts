import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'
import * as apps from 'kubernetes-models/apps/v1'
import * as autoscaling from 'kubernetes-models/autoscaling/v2'
import * as batch from 'kubernetes-models/batch/v1'
import * as core from 'kubernetes-models/v1'
import * as policy from 'kubernetes-models/policy/v1'
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1'
import { BROKER_PERMISSIONS, EVENT_EXCHANGES, QUEUES, SERVICE_ACCOUNTS, type ServiceAccount } from '@orders/contracts'
import { databaseUrlVariable } from '@orders/platform'
import { GATEWAY_ADDRESSES, REPO_ROOT, SERVICES } from '@orders/system'
import { containersOf, kustomizeBuild, type Manifest } from '../src/kustomize.ts'
import { validateStrictly, type ValidatingModel } from '../src/strict-fields.ts'

const K8S = path.join(REPO_ROOT, 'deploy/k8s')
const dev = await kustomizeBuild(path.join(K8S, 'overlays/dev'))
const base = await kustomizeBuild(path.join(K8S, 'base'))
const named = (kind: string, name: string) => dev.find(m => m.kind === kind && m.metadata.name === name)

const MODELS: Record<string, new (data: any) => ValidatingModel & Record<string, unknown>> = {
  'v1/ConfigMap': core.ConfigMap as any,
  'v1/Namespace': core.Namespace as any,
  'v1/Service': core.Service as any,
  'apps/v1/Deployment': apps.Deployment as any,
  'batch/v1/Job': batch.Job as any,
  'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget as any,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.HorizontalPodAutoscaler as any,
  'keda.sh/v1alpha1/ScaledObject': keda.ScaledObject as any,
  'keda.sh/v1alpha1/TriggerAuthentication': keda.TriggerAuthentication as any
}
// The operators' custom resources have no models package: the spec fields used here, from
// the CloudNativePG (postgresql.cnpg.io/v1 Cluster), RabbitMQ Cluster Operator
// (rabbitmq.com/v1beta1 RabbitmqCluster) and Messaging Topology Operator (User, Permission,
// Exchange: its api/v1beta1 types) API references.
const OPERATOR_SPEC_FIELDS: Record<string, string[]> = {
  'postgresql.cnpg.io/v1/Cluster': ['instances', 'imageName', 'primaryUpdateStrategy', 'enableSuperuserAccess', 'minSyncReplicas', 'maxSyncReplicas', 'bootstrap', 'storage', 'resources', 'monitoring', 'postgresql', 'affinity'],
  'rabbitmq.com/v1beta1/RabbitmqCluster': ['replicas', 'image', 'rabbitmq', 'persistence', 'resources', 'service', 'affinity', 'override', 'tls'],
  'rabbitmq.com/v1beta1/User': ['tags', 'rabbitmqClusterReference', 'importCredentialsSecret'],
  'rabbitmq.com/v1beta1/Permission': ['user', 'userReference', 'vhost', 'permissions', 'rabbitmqClusterReference'],
  'rabbitmq.com/v1beta1/Exchange': ['name', 'vhost', 'type', 'durable', 'autoDelete', 'arguments', 'rabbitmqClusterReference']
}

t.test('every manifest of the dev overlay and the base is valid, with no unknown field', async t => {
  for (const manifest of [...base, ...dev]) {
    const type = `${manifest.apiVersion}/${manifest.kind}`
    const where = `${type} ${manifest.metadata.name}`
    const operatorFields = OPERATOR_SPEC_FIELDS[type]
    if (operatorFields) {
      t.same(Object.keys(manifest.spec).filter(key => !operatorFields.includes(key)), [], `${where}: known spec fields`)
      continue
    }
    const Model = MODELS[type]
    if (!Model) { t.fail(`${where}: no model to check it with`); continue }
    const model = new Model(manifest)
    t.doesNotThrow(() => { model.validate() }, `${where}: valid`)
    t.same(validateStrictly(model, where), [], `${where}: no unknown fields`)
  }
})

t.test('the strict check finds a misspelt field and a wrong type', async t => {
  const deployment = structuredClone(named('Deployment', 'order-service')!)
  containersOf(deployment)[0]!.readinesProbe = containersOf(deployment)[0]!.readinessProbe
  deployment.spec.template.spec.securityContext.runAsNonroot = true
  t.same(validateStrictly(new apps.Deployment(deployment as any) as any, 'order-service').sort(), [
    'order-service: unknown field spec.template.spec.containers[0].readinesProbe',
    'order-service: unknown field spec.template.spec.securityContext.runAsNonroot'
  ])
  deployment.spec.replicas = 'two'
  t.throws(() => { new apps.Deployment(deployment as any).validate() }, /replicas/)
})

const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find(file => existsSync(file))
t.test('this repository\'s kustomize build matches kubectl kustomize, where kubectl is installed', { skip: kubectl ? false : 'kubectl is not installed' }, async t => {
  const { stdout } = await promisify(execFile)(kubectl!, ['kustomize', path.join(K8S, 'overlays/dev')], { maxBuffer: 16 << 20 })
  const byKey = (list: Manifest[]) => Object.fromEntries(list.map(m => [`${m.kind}/${m.metadata.name}`, m]))
  t.same(byKey(dev), byKey(parseAllDocuments(stdout).map(doc => doc.toJS() as Manifest)))
})

t.test('the Deployments agree with the process table: image, command, port, env, probes', async t => {
  // The launcher runs the order-service twice on two ports; Kubernetes runs one Deployment
  // of replicas on the first one's port.
  const deployed = SERVICES.filter((service, i) => SERVICES.findIndex(s => s.package === service.package && s.entryPoint === service.entryPoint) === i)
  for (const service of deployed) {
    const name = service.name.replace(/-\d+$/, '')
    const deployment = named('Deployment', name)
    if (!deployment) { t.fail(`no Deployment ${name}`); continue }
    const [container] = containersOf(deployment)
    const entry = /^packages\/([^/]+)\/src\/(.+)\.ts$/.exec(service.entryPoint)!
    t.equal(container!.image, `order-platform/${service.package.replace('@orders/', '')}:dev`, `${name}: the image of its package (a Dockerfile target)`)
    t.same(container!.command, ['node', `${entry[1] === 'web' ? 'dist-server' : 'dist'}/${entry[2]}.js`], `${name}: its entry point, built`)
    t.same(container!.ports, [{ name: 'http', containerPort: service.port.default }], `${name}: port`)
    const env = container!.env.map((e: { name: string }) => e.name)
    t.equal(container!.env.find((e: { name: string }) => e.name === 'PORT')?.value, String(service.port.default))
    t.same(service.env.filter(variable => !env.includes(variable)), [], `${name}: every variable the launcher sets`)
    t.match(container!.readinessProbe, { httpGet: { path: '/readyz', port: 'http' } })
    t.match(container!.livenessProbe, { httpGet: { path: '/healthz', port: 'http' } })
    t.match(named('Service', name)?.spec.ports, [{ port: service.port.default, targetPort: 'http' }], `${name}: Service`)
  }
  const gatewayEnv = containersOf(named('Deployment', 'gateway')!)[0]!.env.map((e: { name: string }) => e.name)
  t.same(GATEWAY_ADDRESSES.flatMap(a => [a.hostEnv, a.port.env]).filter(name => !gatewayEnv.includes(name)), [], 'the gateway sets every address haproxy.cfg reads')
  t.equal(named('ConfigMap', 'gateway-haproxy')?.data['haproxy.cfg'], await readFile(path.join(REPO_ROOT, 'haproxy.cfg'), 'utf8'), 'the gateway runs the repository\'s haproxy.cfg (deploy/k8s/base/haproxy.cfg is a copy)')
})

t.test('pods run as non-root on a read-only root filesystem, with resources; secrets are referenced, never inlined', async t => {
  const workloads = dev.filter(m => m.kind === 'Deployment' || m.kind === 'Job')
  for (const workload of workloads) {
    t.equal(workload.spec.template.spec.securityContext?.runAsNonRoot, true, `${workload.metadata.name}: non-root`)
    for (const container of containersOf(workload)) {
      t.match(container.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }, `${workload.metadata.name}: read-only root`)
      t.ok(container.resources?.requests?.cpu && container.resources?.limits?.memory, `${workload.metadata.name}: resources`)
      for (const variable of container.env ?? []) {
        t.notMatch(String(variable.value ?? ''), /:\/\/[^$@]+:[^$@]+@/, `${workload.metadata.name}: ${variable.name} holds no credentials`)
      }
    }
  }
  t.same(dev.filter(m => m.kind === 'Secret'), [], 'no Secret in the manifests')
})

t.test('disruption budgets, the order-service HPA and the processor\'s KEDA ScaledObject on the work queue', async t => {
  for (const deployment of dev.filter(m => m.kind === 'Deployment')) {
    t.ok(dev.some(m => m.kind === 'PodDisruptionBudget' && m.spec.selector.matchLabels['app.kubernetes.io/name'] === deployment.metadata.name), `${deployment.metadata.name} has a PodDisruptionBudget`)
  }
  t.match(named('HorizontalPodAutoscaler', 'order-service')?.spec, { scaleTargetRef: { kind: 'Deployment', name: 'order-service' }, minReplicas: 1 })
  t.match(base.find(m => m.kind === 'HorizontalPodAutoscaler')?.spec, { minReplicas: 2 }, 'the base keeps two replicas at least')
  const scaled = named('ScaledObject', 'order-processor')!
  t.match(scaled.spec, { scaleTargetRef: { name: 'order-processor' }, triggers: [{ type: 'rabbitmq', metadata: { queueName: QUEUES.orderProcessing, mode: 'QueueLength' } }] })
  t.ok(named('Deployment', 'relay'), 'the relay is a Deployment of its own')
  t.equal(dev.find(m => m.kind === 'Namespace')?.metadata.name, 'order-platform-dev')
  t.ok(dev.filter(m => m.kind !== 'Namespace').every(m => m.metadata.namespace === 'order-platform-dev'), 'everything in the dev namespace')
})

t.test('least privilege: each service its own database role and broker user, with the permissions of the contracts', async t => {
  const secretOf = (container: Record<string, any>, variable: string) => container.env.find((e: { name: string }) => e.name === variable)?.valueFrom?.secretKeyRef?.name
  const accounts = new Map(SERVICES.map(service => [service.name.replace(/-\d+$/, ''), service.account]))
  for (const [name, account] of accounts) {
    if (account === undefined) continue
    const [container] = containersOf(named('Deployment', name)!)
    t.same([secretOf(container!, 'DATABASE_USER'), secretOf(container!, 'DATABASE_PASSWORD')], [`order-platform-db-${account}`, `order-platform-db-${account}`], `${name}: its account's database role`)
    t.same([secretOf(container!, 'AMQP_USER'), secretOf(container!, 'AMQP_PASSWORD')], [`order-platform-mq-${account}`, `order-platform-mq-${account}`], `${name}: its account's broker user`)
  }
  const [migrate] = containersOf(named('Job', 'migrate')!)
  t.equal(secretOf(migrate!, 'ADMIN_USER'), 'orders-db-superuser', 'the migrate Job alone connects as the superuser')
  for (const account of SERVICE_ACCOUNTS) {
    const variable = databaseUrlVariable(account)
    t.ok(migrate!.env.some((e: { name: string }) => e.name === variable), `the migrate Job reads ${variable}`)
    t.equal(secretOf(migrate!, variable.replace('_URL', '_USER')), `order-platform-db-${account}`)
  }
  t.equal(named('Cluster', 'orders-db')?.spec.enableSuperuserAccess, true)
  const everyone = dev.flatMap(m => m.kind === 'Deployment' || m.kind === 'Job' ? containersOf(m) : [])
  t.same(everyone.filter(c => c !== migrate && c.env?.some((e: any) => ['orders-db-superuser', 'orders-db-app', 'orders-mq-default-user'].includes(e.valueFrom?.secretKeyRef?.name))).map(c => c.name), [], 'no service reads an admin\'s Secret')

  const users = dev.filter(m => m.kind === 'User')
  t.same(users.map(u => u.metadata.name).sort(), [...SERVICE_ACCOUNTS].sort())
  for (const user of users) t.equal(user.spec.importCredentialsSecret?.name, `order-platform-mq-${user.metadata.name}`, `${user.metadata.name}: the Secret its Deployments read`)
  const permissions = dev.filter(m => m.kind === 'Permission')
  t.same(Object.fromEntries(permissions.map(p => [p.spec.userReference.name, { vhost: p.spec.vhost, ...p.spec.permissions }])),
    Object.fromEntries(SERVICE_ACCOUNTS.map((account: ServiceAccount) => [account, { vhost: '/', ...BROKER_PERMISSIONS[account] }])), 'BROKER_PERMISSIONS, on the vhost /')
  t.same(dev.filter(m => m.kind === 'Exchange').map(e => [e.spec.name, e.spec.type, e.spec.durable]).sort(),
    Object.values(EVENT_EXCHANGES).map(e => [e.exchange, e.type, e.durable]).sort(), 'the event exchanges, so a consumer can bind before their publisher started')
})
