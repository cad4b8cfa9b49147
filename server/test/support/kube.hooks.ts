import { stopTestCluster } from './kube';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await stopTestCluster();
  },
};
