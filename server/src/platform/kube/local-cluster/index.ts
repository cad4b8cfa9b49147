export { ensureBinaries, findRepoRoot, type ControlPlaneBinaries } from './binaries';
export { describeApiError, KWOK_NODE_ANNOTATION, SERVICE_CIDR, startLocalCluster, type LocalCluster, type LocalClusterOptions } from './local-cluster';
export { KWOK_METRICS_PATH_ANNOTATION, METRICS_API_SERVICE, type MetricsServerState } from './metrics-server';
export { NETPOL_IPTABLES_CHAIN, NETPOL_TABLE, REAL_NODE_IP, REAL_NODE_LABEL, REAL_NODE_NAME, REAL_NODE_PLACEMENT, type NetworkPolicyState, type RealNodeImages, type RealNodeState } from './real-node';
export { REAL_NODE_STORAGE_CLASS } from './real-node-runner';
export { createDemoTemplates, demoTemplates } from './demo-templates';
export { buildPlatformImages, helmCommand, importIntoRealNode, realNodeValuesFile, relayApiServerToPods, type BuiltImage } from './deploy';
