export { ensureBinaries, findRepoRoot, type ControlPlaneBinaries } from './binaries';
export { describeApiError, startLocalCluster, type LocalCluster, type LocalClusterOptions } from './local-cluster';
