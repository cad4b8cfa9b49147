import { expect } from 'chai';
import { loadConfig } from '../../src/config/config';
import { startTestApp, type TestApp } from '../support/app';
import { postLogin } from '../support/auth';

describe('trust proxy: only configured proxies may name the client IP', () => {
  let app: TestApp;
  before(async () => {
    // The test client connects from loopback; trusting no proxy stands for a session pod in a private range.
    app = await startTestApp({ STREAMSPACE_TRUST_PROXY: 'none', STREAMSPACE_LOGIN_RATE_LIMIT_PER_USERNAME: '100', STREAMSPACE_LOGIN_RATE_LIMIT_PER_IP: '3' });
  });
  after(async () => {
    await app?.stop();
  });

  it('trusts only loopback by default, never every private range', () => {
    expect(loadConfig({} as NodeJS.ProcessEnv).trustProxy).to.deep.equal(['loopback']);
    expect(loadConfig({ STREAMSPACE_TRUST_PROXY: '10.0.0.0/8, 192.168.1.7' } as NodeJS.ProcessEnv).trustProxy).to.deep.equal(['10.0.0.0/8', '192.168.1.7']);
    expect(() => loadConfig({ STREAMSPACE_TRUST_PROXY: 'everyone' } as NodeJS.ProcessEnv)).to.throw(/STREAMSPACE_TRUST_PROXY/);
  });

  it('keeps limiting failed sign-ins by the real peer address whatever X-Forwarded-For says', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await postLogin(app, `nobody-${i}`, 'wrong-password', { 'x-forwarded-for': `203.0.113.${i + 1}` })).status);
    expect(statuses).to.deep.equal([401, 401, 401, 429]);
  });
});
