import { createHash } from 'node:crypto';
import type {
  V1Container,
  V1ContainerPort,
  V1Deployment,
  V1EnvFromSource,
  V1EnvVar,
  V1Ingress,
  V1NetworkPolicy,
  V1OwnerReference,
  V1PersistentVolumeClaim,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Probe,
  V1Service,
  V1ServicePort,
  V1Toleration,
  V1Volume,
} from '@kubernetes/client-node';
import type { ResourceRequirements, TemplateManifest, TemplateSecurity } from '../templates/template.crd';
import { DEFAULT_SESSION_UID } from '../templates/template-security';
import type { SessionManifest, SessionWorkloadConfig } from './session.crd';

/**
 * Pure builders: (Session, Template, configuration) -> the Kubernetes objects that run the session. No I/O,
 * so the reconciler's decisions are unit-testable and every reconcile can re-apply the same desired objects.
 *
 * Naming: every child is named after the Session (unique in its namespace), so two sessions of one app for
 * one user never collide. The home PVC is per user (home-<user>), has no owner and outlives sessions.
 */

export const LABEL_USER = 'stream.streamspace.io/user';
export const LABEL_TEMPLATE = 'stream.streamspace.io/template';
export const LABEL_SESSION = 'stream.streamspace.io/session';
export const HOME_VOLUME = 'user-home';
export const APP_CONTAINER = 'app';
/** Replicas wanted by the connection autoscaler (multi-user templates); absent means 1. */
export const REPLICAS_ANNOTATION = 'stream.streamspace.io/replicas';
/** When the autoscaler last changed the replicas (its cool-down starts there). */
export const SCALED_AT_ANNOTATION = 'stream.streamspace.io/scaled-at';
/** On a session's Deployment: the ports the gateway connects to on its pods, `{"app":8080,"vnc":5901}` (vnc: hybrid). */
export const PORTS_ANNOTATION = 'stream.streamspace.io/ports';

/** Pods of a running session: 1, or what the connection autoscaler set (1-100). */
export function sessionReplicas(session: SessionManifest): number {
  const n = Number(session.metadata.annotations?.[REPLICAS_ANNOTATION]);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 100) : 1;
}

/** Label values: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(value: string): string {
  const clean = value.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (clean === value && clean.length <= 63) return clean;
  // Changed or too long: keep it readable and make it unique again with a short hash of the original.
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  return `${clean.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`.replace(/^-/, 'u');
}

/** The user's immutable id, set on every Session the API creates; it names the user's home claim. */
export const ANNOTATION_USER_ID = 'stream.streamspace.io/user-id';
/** Who owns a home claim (the user's id; legacy claims carry only LABEL_USER). The reconciler mounts no one else's. */
export const LABEL_HOME_OWNER = 'stream.streamspace.io/home-owner';

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The home claim of a Session's user and the owner it must carry: home-<user id> (a username, e.g. an
 * OIDC preferred_username, can be crafted to map onto another user's name). Sessions without the id (made outside
 * the API) keep the legacy name, owned by the username's label value.
 */
export function homeClaimOf(session: SessionManifest): { name: string; owner: string } {
  const id = session.metadata.annotations?.[ANNOTATION_USER_ID]?.toLowerCase();
  if (id && USER_ID.test(id)) return { name: `home-${id}`, owner: id };
  return { name: homeClaimName(session.spec.user), owner: labelValue(session.spec.user) };
}

/** Why a Session must not mount an existing claim (null: it may): a claim owned by someone else is never mounted. */
export function homeClaimConflict(session: SessionManifest, existing: { metadata?: { labels?: Record<string, string> } }): string | null {
  const expected = homeClaimOf(session);
  const labels = existing.metadata?.labels ?? {};
  const owner = labels[LABEL_HOME_OWNER] ?? (expected.owner === labelValue(session.spec.user) ? labels[LABEL_USER] : undefined);
  if (owner === expected.owner) return null;
  return `The home volume claim ${expected.name} belongs to ${owner ? 'another user' : 'no known user'}; it is not mounted`;
}

/** The legacy per-user home PVC name: home-<user as a DNS label> (a hash keeps distinct users distinct). */
export function homeClaimName(user: string): string {
  const label = user.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (label === user && label.length <= 50) return `home-${label}`;
  const hash = createHash('sha256').update(user).digest('hex').slice(0, 8);
  return `home-${label.slice(0, 40).replace(/-+$/, '')}${label ? '-' : ''}${hash}`;
}

export function sessionLabels(session: SessionManifest): Record<string, string> {
  return {
    'app.kubernetes.io/name': labelValue(session.spec.template),
    'app.kubernetes.io/instance': session.metadata.name,
    'app.kubernetes.io/component': 'session',
    'app.kubernetes.io/part-of': 'streamspace',
    'app.kubernetes.io/managed-by': 'streamspace',
    [LABEL_USER]: labelValue(session.spec.user),
    [LABEL_TEMPLATE]: labelValue(session.spec.template),
    [LABEL_SESSION]: session.metadata.name,
  };
}

export function selectorLabels(session: SessionManifest): Record<string, string> {
  return { [LABEL_SESSION]: session.metadata.name };
}

export function ownerReference(session: SessionManifest): V1OwnerReference {
  if (!session.metadata.uid) throw new Error(`Session ${session.metadata.name} has no uid (not read from the API server?)`);
  return {
    apiVersion: session.apiVersion,
    kind: 'Session',
    name: session.metadata.name,
    uid: session.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The port users reach: the web app's port, else the VNC port. */
export function primaryPort(template: TemplateManifest): { name: string; port: number } {
  const s = template.spec;
  if ((s.appType === 'webapp' || s.appType === 'hybrid') && s.webapp) return { name: 'http', port: s.webapp.port };
  if (s.vnc?.port) return { name: 'vnc', port: s.vnc.port };
  throw new Error(`Template ${template.metadata.name} has no port to expose`);
}

/** The ports the gateway reaches on a session's pods: the primary one, and a hybrid session's VNC desktop. */
export interface SessionPorts {
  app: number;
  vnc?: number;
}

export function sessionPorts(template: TemplateManifest): SessionPorts {
  const ports = servicePorts(template);
  const vnc = ports.find((p) => p.name === 'vnc' && p !== ports[0]);
  return { app: ports[0].port, ...(vnc ? { vnc: vnc.port } : {}) };
}

/** The ports of a Deployment's annotation (null: none, or not what this version writes). */
export function parseSessionPorts(value: string | undefined): SessionPorts | null {
  if (!value) return null;
  try {
    const v = JSON.parse(value) as { app?: unknown; vnc?: unknown };
    const port = (p: unknown) => typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
    if (!port(v.app) || (v.vnc !== undefined && !port(v.vnc))) return null;
    return { app: v.app as number, ...(v.vnc !== undefined ? { vnc: v.vnc as number } : {}) };
  } catch {
    return null;
  }
}

/**
 * Whether a session gets a Service: for its Ingress (routing around the gateway), or as its in-cluster address when
 * the gateway is off. Behind the gateway alone it has none: the gateway connects to the pods' addresses.
 */
export function needsService(config: SessionWorkloadConfig): boolean {
  return !config.throughGateway || config.ingress.mode !== 'none';
}

function servicePorts(template: TemplateManifest): V1ServicePort[] {
  const primary = primaryPort(template);
  const ports: V1ServicePort[] = [{ name: primary.name, port: primary.port, targetPort: primary.port as never, protocol: 'TCP' }];
  const vnc = template.spec.vnc;
  if (template.spec.appType === 'hybrid' && vnc?.enabled !== false && vnc?.port && vnc.port !== primary.port) {
    ports.push({ name: 'vnc', port: vnc.port, targetPort: vnc.port as never, protocol: 'TCP' });
  }
  return ports;
}

/** Session overrides replace the Template's defaults per resource name. */
export function effectiveResources(session: SessionManifest, template: TemplateManifest): ResourceRequirements {
  const base = template.spec.defaultResources ?? {};
  const over = session.spec.resources ?? {};
  const out: ResourceRequirements = {};
  const requests = { ...(base.requests ?? {}), ...(over.requests ?? {}) };
  const limits = { ...(base.limits ?? {}), ...(over.limits ?? {}) };
  if (Object.keys(requests).length) out.requests = requests;
  if (Object.keys(limits).length) out.limits = limits;
  return out;
}

function stringQuantities(m: Record<string, string | number> | undefined): Record<string, string> | undefined {
  if (!m) return undefined;
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
}

function readinessProbe(template: TemplateManifest): V1Probe {
  const hc = template.spec.webapp?.healthCheck;
  const primary = primaryPort(template);
  const timing = {
    initialDelaySeconds: hc?.initialDelaySeconds ?? 2,
    periodSeconds: hc?.periodSeconds ?? 5,
    timeoutSeconds: hc?.timeoutSeconds ?? 2,
    failureThreshold: hc?.failureThreshold ?? 3,
  };
  if (hc?.path) {
    return {
      httpGet: { path: hc.path, port: (hc.port ?? primary.port) as never, scheme: template.spec.webapp?.protocol === 'https' ? 'HTTPS' : 'HTTP' },
      ...timing,
    };
  }
  return { tcpSocket: { port: primary.port as never }, ...timing };
}

/**
 * The pod and container security of a session: the Pod Security Standards' restricted profile (non-root, no
 * privilege escalation, every capability dropped, RuntimeDefault seccomp) unless the template asks for an exception
 * an admin approved (the reconciler starts nothing before that): runAsRoot keeps the image's user, addCapabilities
 * adds baseline capabilities back. Without runAsRoot the uid is forced (default 1000), so an image whose user is root
 * still runs as non-root.
 */
export function sessionSecurity(security: TemplateSecurity | undefined): { pod: V1PodSecurityContext; container: V1SecurityContext } {
  const s = security ?? {};
  const seccompProfile = { type: 'RuntimeDefault' };
  const capabilities = { drop: ['ALL'], ...(s.addCapabilities?.length ? { add: [...s.addCapabilities] } : {}) };
  if (s.runAsRoot) {
    return {
      pod: { seccompProfile, ...(s.fsGroup ? { fsGroup: s.fsGroup } : {}) },
      container: { allowPrivilegeEscalation: false, capabilities },
    };
  }
  const uid = s.runAsUser ?? DEFAULT_SESSION_UID;
  const gid = s.runAsGroup ?? DEFAULT_SESSION_UID;
  return {
    pod: { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: s.fsGroup ?? gid, seccompProfile },
    container: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities },
  };
}

export function buildDeployment(session: SessionManifest, template: TemplateManifest, config: SessionWorkloadConfig): V1Deployment {
  const labels = sessionLabels(session);
  const spec = template.spec;
  const running = (session.spec.state ?? 'running') === 'running';

  const containerPorts: V1ContainerPort[] = (spec.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    containerPort: p.containerPort,
    protocol: p.protocol ?? 'TCP',
  }));
  for (const sp of servicePorts(template)) {
    if (!containerPorts.some((p) => p.containerPort === sp.port && (p.protocol ?? 'TCP') === 'TCP')) {
      containerPorts.push({ name: containerPorts.some((p) => p.name === sp.name) ? undefined : sp.name, containerPort: sp.port, protocol: 'TCP' });
    }
  }

  const env: V1EnvVar[] = (spec.env ?? []).map((e) => ({ ...e }) as V1EnvVar);
  for (const [name, value] of [
    ['STREAMSPACE_SESSION', session.metadata.name],
    ['STREAMSPACE_USER', session.spec.user],
    ['STREAMSPACE_TEMPLATE', session.spec.template],
  ]) {
    if (!env.some((e) => e.name === name)) env.push({ name, value });
  }

  const mounts = spec.volumeMounts ?? [];
  const volumeNames = [...new Set(mounts.map((m) => m.name))];
  const volumes: V1Volume[] = volumeNames.map((name) =>
    name === HOME_VOLUME && session.spec.persistentHome
      ? { name, persistentVolumeClaim: { claimName: homeClaimOf(session).name } }
      : // Without a persistent home, the app's own paths still need somewhere writable for the session's life.
        { name, emptyDir: {} },
  );

  const envFrom: V1EnvFromSource[] = (spec.envFrom ?? []).map((e) => ({ ...e }) as V1EnvFromSource);
  const security = sessionSecurity(spec.security);
  const resources = effectiveResources(session, template);
  const container: V1Container = {
    name: APP_CONTAINER,
    image: spec.baseImage,
    ports: containerPorts,
    env,
    ...(envFrom.length ? { envFrom } : {}),
    securityContext: security.container,
    resources: { requests: stringQuantities(resources.requests), limits: stringQuantities(resources.limits) },
    volumeMounts: mounts.map((m) => ({ ...m })),
    readinessProbe: readinessProbe(template),
  };

  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: session.metadata.name,
      namespace: session.metadata.namespace,
      labels,
      // Read by the gateway (gateway-upstream.ts); on the Deployment, not its pods: changing it restarts no session.
      annotations: { [PORTS_ANNOTATION]: JSON.stringify(sessionPorts(template)) },
      ownerReferences: [ownerReference(session)],
    },
    spec: {
      replicas: running ? sessionReplicas(session) : 0,
      // One pod at a time: the home volume is ReadWriteOnce and a session is one desktop.
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 2,
      selector: { matchLabels: selectorLabels(session) },
      template: {
        metadata: { labels },
        spec: {
          securityContext: security.pod,
          containers: [container],
          volumes,
          ...podPlacement(config),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          hostname: session.metadata.name,
        },
      },
    },
  };
}

/** Dedicated session nodes: select their labels and tolerate their NoSchedule taints of the same key and value. */
function podPlacement(config: SessionWorkloadConfig): { nodeSelector?: Record<string, string>; tolerations?: V1Toleration[] } {
  const selector = config.nodeSelector;
  if (!selector || Object.keys(selector).length === 0) return {};
  return {
    nodeSelector: { ...selector },
    tolerations: Object.entries(selector).map(([key, value]) => ({ key, operator: 'Equal', value, effect: 'NoSchedule' })),
  };
}

export function buildService(session: SessionManifest, template: TemplateManifest): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: session.metadata.name,
      namespace: session.metadata.namespace,
      labels: sessionLabels(session),
      ownerReferences: [ownerReference(session)],
    },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(session),
      ports: servicePorts(template),
    },
  };
}

/** The host name an Ingress rule matches: Ingress hosts carry no port, session URLs may. */
function withoutPort(hostAndPort: string | undefined): string | undefined {
  return hostAndPort?.replace(/:\d+$/, '');
}

function ingressHost(session: SessionManifest, config: SessionWorkloadConfig): string | undefined {
  const ing = config.ingress;
  if (ing.mode === 'host') return `${session.metadata.name}.${withoutPort(ing.domain)}`;
  if (ing.mode === 'path') return withoutPort(ing.host);
  return undefined;
}

/** The Ingress, or null when ingress is switched off. */
export function buildIngress(session: SessionManifest, template: TemplateManifest, config: SessionWorkloadConfig): V1Ingress | null {
  const ing = config.ingress;
  if (ing.mode === 'none') return null;
  const host = ingressHost(session, config);
  const primary = primaryPort(template);
  const path = ing.mode === 'path' ? `/sessions/${session.metadata.name}/` : '/';
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: session.metadata.name,
      namespace: session.metadata.namespace,
      labels: sessionLabels(session),
      ownerReferences: [ownerReference(session)],
    },
    spec: {
      ...(ing.className ? { ingressClassName: ing.className } : {}),
      ...(ing.tlsSecret ? { tls: [{ hosts: host ? [host] : undefined, secretName: ing.tlsSecret }] } : {}),
      rules: [
        {
          ...(host ? { host } : {}),
          http: {
            paths: [
              {
                path,
                pathType: 'Prefix',
                backend: { service: { name: session.metadata.name, port: { name: primary.name } } },
              },
            ],
          },
        },
      ],
    },
  };
}

/** The user's home PVC, or null when the session does not ask for a persistent home. No owner: it outlives sessions. */
export function buildHomeClaim(session: SessionManifest, config: SessionWorkloadConfig): V1PersistentVolumeClaim | null {
  if (!session.spec.persistentHome) return null;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: homeClaimOf(session).name,
      namespace: session.metadata.namespace,
      labels: {
        [LABEL_HOME_OWNER]: homeClaimOf(session).owner,
        'app.kubernetes.io/component': 'home',
        'app.kubernetes.io/part-of': 'streamspace',
        'app.kubernetes.io/managed-by': 'streamspace',
        [LABEL_USER]: labelValue(session.spec.user),
      },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(config.home.storageClass ? { storageClassName: config.home.storageClass } : {}),
      resources: { requests: { storage: config.home.size } },
    },
  };
}

/**
 * Where the session is served: through its Ingress, else its cluster DNS name (a Service's when the gateway is off;
 * behind the gateway only the path counts: users get the gateway's ticket URL, and the gateway reaches the pods).
 */
export function sessionUrl(session: SessionManifest, template: TemplateManifest, config: SessionWorkloadConfig): string {
  const ing = config.ingress;
  const scheme = ing.tlsSecret ? 'https' : 'http';
  const path = template.spec.webapp?.path && template.spec.appType !== 'desktop' ? template.spec.webapp.path.replace(/^\//, '') : '';
  if (ing.mode === 'host') return `${scheme}://${session.metadata.name}.${ing.domain}/${path}`;
  if (ing.mode === 'path') return `${scheme}://${ing.host}/sessions/${session.metadata.name}/${path}`;
  const primary = primaryPort(template);
  return `http://${session.metadata.name}.${session.metadata.namespace}.svc:${primary.port}/${path}`;
}

/** Pods of the gateway carry this label (the chart sets it); they are the only peers a session admits. */
export const LABEL_GATEWAY = 'stream.streamspace.io/gateway';

/** Private address ranges (RFC 1918): pod and service networks of a cluster live there, the internet does not. */
export const CLUSTER_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/**
 * The session's NetworkPolicy, or null when it needs none:
 * - with the gateway policy, its pods accept connections only from the gateway's pods (by label, in the gateway's
 *   namespace) and only on the app's ports; every other pod, including other sessions, is refused;
 * - without internet egress (the features.internetEgress setting), its pods may connect only to pods of the cluster,
 *   private addresses and DNS.
 */
export function buildNetworkPolicy(session: SessionManifest, template: TemplateManifest, config: SessionWorkloadConfig): V1NetworkPolicy | null {
  const noEgress = config.internetEgress === false;
  if (!config.networkPolicy && !noEgress) return null;
  const policyTypes = [...(config.networkPolicy ? ['Ingress'] : []), ...(noEgress ? ['Egress'] : [])];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: session.metadata.name,
      namespace: session.metadata.namespace,
      labels: sessionLabels(session),
      ownerReferences: [ownerReference(session)],
    },
    spec: {
      podSelector: { matchLabels: selectorLabels(session) },
      policyTypes,
      ...(config.networkPolicy
        ? {
            ingress: [
              {
                _from: [
                  {
                    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': config.networkPolicy.gatewayNamespace } },
                    podSelector: { matchLabels: { [LABEL_GATEWAY]: 'true' } },
                  },
                ],
                ports: servicePorts(template).map((p) => ({ protocol: 'TCP', port: p.port as never })),
              },
            ],
          }
        : {}),
      ...(noEgress
        ? {
            egress: [
              { to: [{ namespaceSelector: {} }, ...CLUSTER_RANGES.map((cidr) => ({ ipBlock: { cidr } }))] },
              { ports: [{ protocol: 'UDP', port: 53 as never }, { protocol: 'TCP', port: 53 as never }] },
            ],
          }
        : {}),
    },
  };
}

export interface SessionChildren {
  deployment: V1Deployment;
  /** Null behind the gateway alone (needsService). */
  service: V1Service | null;
  ingress: V1Ingress | null;
  homeClaim: V1PersistentVolumeClaim | null;
  networkPolicy: V1NetworkPolicy | null;
}

export function buildSessionChildren(session: SessionManifest, template: TemplateManifest, config: SessionWorkloadConfig): SessionChildren {
  return {
    deployment: buildDeployment(session, template, config),
    service: needsService(config) ? buildService(session, template) : null,
    ingress: buildIngress(session, template, config),
    homeClaim: buildHomeClaim(session, config),
    networkPolicy: buildNetworkPolicy(session, template, config),
  };
}
