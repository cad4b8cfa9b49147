import type { CustomResourceClient, StreamSpaceApi } from '../../platform/kube/streamspace-api';
import type { AppType, ObjectMetaLite, ResourceRequirements } from '../templates/template.crd';

/**
 * The Session custom resource as Kubernetes stores it (crds/session.yaml). The GraphQL shape of a session is
 * dto/session.type.ts; its row in PostgreSQL is session.entity.ts.
 */

export const SESSION_STATES = ['running', 'hibernated', 'terminated'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const SESSION_PHASES = ['Pending', 'Running', 'Hibernated', 'Failed', 'Terminated'] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];

export interface SessionSpec {
  user: string;
  template: string;
  state?: SessionState;
  appType?: AppType;
  resources?: ResourceRequirements;
  persistentHome?: boolean;
  idleTimeout?: string;
  maxSessionDuration?: string;
  minConnections?: number;
  maxConnections?: number;
  autoStart?: boolean;
  startupTimeout?: string;
}

export interface SessionCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface SessionStatus {
  phase?: SessionPhase;
  message?: string;
  url?: string;
  podName?: string;
  activeConnections?: number;
  totalConnections?: number;
  lastConnection?: string;
  lastDisconnect?: string;
  lastActivity?: string;
  resourceUsage?: Record<string, string | number>;
  observedGeneration?: number;
  conditions?: SessionCondition[];
}

export interface SessionManifest {
  apiVersion: 'stream.streamspace.io/v1alpha1';
  kind: 'Session';
  metadata: ObjectMetaLite & { deletionTimestamp?: string | Date; finalizers?: string[] };
  spec: SessionSpec;
  status?: SessionStatus;
}

/** The Session objects of the StreamSpace namespace, typed. */
export function sessionObjects(api: StreamSpaceApi): CustomResourceClient<SessionManifest> {
  return api.typed<SessionManifest>('sessions');
}

/** How session workloads are exposed and stored (from the server configuration). */
export interface SessionWorkloadConfig {
  ingress: {
    /** none: no Ingress (a Service only when the gateway is off); host: <session>.<domain>; path: <host>/sessions/<session>/. */
    mode: 'none' | 'host' | 'path';
    /** Host mode: sessions get <session-name>.<domain>. */
    domain?: string;
    /** Path mode: the one host sessions share. */
    host?: string;
    className?: string;
    /** TLS secret for the Ingress (a wildcard certificate for host mode). */
    tlsSecret?: string;
  };
  home: {
    size: string;
    storageClass?: string;
  };
  /** Node labels session pods select; they tolerate NoSchedule taints with the same key and value. */
  nodeSelector?: Record<string, string>;
  /** Per-session NetworkPolicy admitting only the gateway's pods; absent: none is created. */
  networkPolicy?: { gatewayNamespace: string };
  /** false: session pods may reach only addresses inside the cluster and DNS (egress rules of the NetworkPolicy). */
  internetEgress?: boolean;
  /**
   * The gateway serves sessions: it reaches their pods by address (the ports are an annotation of the Deployment), so
   * without an Ingress a session needs no Service (and the cluster no ClusterIP, Endpoints and EndpointSlice for it).
   */
  throughGateway?: boolean;
}
