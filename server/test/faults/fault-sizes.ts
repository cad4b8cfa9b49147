import type { OutageSize } from './database-outage.scenario';
import type { FullDiskSize } from './full-disk.scenario';
import type { LeaderKillSize } from './leader-kill.scenario';
import type { SigkillSize } from './sigkill-under-load.scenario';
import type { WatchGoneSize } from './watch-gone.scenario';

export interface FaultSizes {
  sigkill: SigkillSize;
  outage: OutageSize;
  watchGone: WatchGoneSize;
  leaderKill: LeaderKillSize;
  fullDisk: FullDiskSize;
}

/** What `npm test` runs: the same scenarios, small enough for the CI budget. */
export const CI_SIZES: FaultSizes = {
  sigkill: { connections: 100, sessions: 4, intervalMs: 1000 },
  outage: { outageMs: 8_000, connections: 20 },
  watchGone: { sessions: 4, subscribers: 5, downMs: 3_000 },
  leaderKill: { sessions: 6, connectionsPerSession: 2 },
  fullDisk: { templates: 20, added: 20, tmpfsMb: 4 },
};

/** What `npm run bench:faults` runs. */
export const FULL_SIZES: FaultSizes = {
  sigkill: { connections: 500, sessions: 5, intervalMs: 1000 },
  outage: { outageMs: 30_000, connections: 100 },
  watchGone: { sessions: 10, subscribers: 50, downMs: 5_000 },
  leaderKill: { sessions: 20, connectionsPerSession: 3 },
  fullDisk: { templates: 200, added: 100, tmpfsMb: 8 },
};
