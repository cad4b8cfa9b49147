import { STREAMSPACE_API_VERSION, type CustomResourceClient, type StreamSpaceApi } from '../../platform/kube/streamspace-api';

/**
 * The Template custom resource as Kubernetes stores it (crds/template.yaml, group stream.streamspace.io, version
 * v1alpha1). The GraphQL shape of a template is dto/template.type.ts.
 */
/** Group of the original StreamSpace project's templates, accepted on import. */
export const LEGACY_GROUP = 'stream.space';

export const APP_TYPES = ['webapp', 'desktop', 'hybrid'] as const;
export type AppType = (typeof APP_TYPES)[number];

export type QuantityMap = Record<string, string | number>;

export interface ResourceRequirements {
  requests?: QuantityMap;
  limits?: QuantityMap;
}

export interface TemplatePort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface TemplateEnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

/** Every key of a Secret or ConfigMap as variables (only ones labelled for sessions, see template-security.ts). */
export interface TemplateEnvFrom {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}

/**
 * Exceptions to the restricted pod security of sessions. runAsRoot and addCapabilities are exceptions an admin must
 * approve (see template-security.ts); runAsUser/runAsGroup/fsGroup only choose which non-root ids to use.
 */
export interface TemplateSecurity {
  runAsRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  addCapabilities?: string[];
}

export interface TemplateVolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

export interface TemplateHealthCheck {
  path?: string;
  port?: number;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface TemplateSpec {
  displayName: string;
  description?: string;
  category?: string;
  icon?: string;
  tags?: string[];
  baseImage: string;
  appType: AppType;
  webapp?: { port: number; protocol?: 'http' | 'https'; path?: string; healthCheck?: TemplateHealthCheck };
  vnc?: { enabled?: boolean; port?: number; protocol?: 'rfb' | 'websocket' | 'http' | 'https' };
  ports?: TemplatePort[];
  env?: TemplateEnvVar[];
  envFrom?: TemplateEnvFrom[];
  volumeMounts?: TemplateVolumeMount[];
  defaultResources?: ResourceRequirements;
  capabilities?: string[];
  multiUser?: boolean;
  maxConcurrentUsers?: number;
  autoScaling?: { enabled?: boolean; minReplicas?: number; maxReplicas?: number; targetConnections?: number };
  /** Hibernate this template's sessions after this long without connections (a session's idleTimeout wins). */
  idleTimeout?: string;
  /** Exceptions to the restricted pod security (approved by an admin before use). */
  security?: TemplateSecurity;
}

export interface TemplateStatus {
  valid?: boolean;
  message?: string;
  observedGeneration?: number;
}

export interface ObjectMetaLite {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface TemplateManifest {
  apiVersion: typeof STREAMSPACE_API_VERSION;
  kind: 'Template';
  metadata: ObjectMetaLite;
  spec: TemplateSpec;
  status?: TemplateStatus;
}

/** The Template objects of the StreamSpace namespace, typed. */
export function templateObjects(api: StreamSpaceApi): CustomResourceClient<TemplateManifest> {
  return api.typed<TemplateManifest>('templates');
}
