import type { AppConfig } from '../../config/config';
import { readBuildInfo, type BuildInfo } from './build-info';

/** Version and build of this server. */
export function createSystem(deps: { build: AppConfig['build'] }): { buildInfo: BuildInfo } {
  return { buildInfo: readBuildInfo(deps.build) };
}
