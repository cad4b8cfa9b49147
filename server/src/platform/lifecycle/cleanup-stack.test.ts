import { expect } from 'chai';
import { createLogger } from '../logging/logger';
import { CleanupStack } from './cleanup-stack';

describe('CleanupStack', () => {
  const logger = createLogger('silent');

  it('releases newest first, once, even when called twice', async () => {
    const stack = new CleanupStack(logger);
    const released: string[] = [];
    for (const name of ['database', 'cluster', 'jobs']) stack.push(name, () => void released.push(name));
    expect(stack.pending).to.deep.equal(['database', 'cluster', 'jobs']);
    await Promise.all([stack.release(), stack.release()]);
    expect(released).to.deep.equal(['jobs', 'cluster', 'database']);
    expect(stack.pending).to.deep.equal([]);
  });

  it('start() pushes the release only when the part started, with what it started', async () => {
    const stack = new CleanupStack(logger);
    const released: unknown[] = [];
    const db = await stack.start('database', () => ({ id: 'db' }), (started) => void released.push(started));
    const failure = await stack.start('cluster', () => Promise.reject(new Error('no cluster')), () => void released.push('cluster')).catch((err: Error) => err);
    expect(failure).to.be.instanceOf(Error);
    expect(stack.pending).to.deep.equal(['database']);
    await stack.release();
    expect(released).to.deep.equal([db]);
  });

  it('goes on with the next step when one fails or outlives its limit', async () => {
    const stack = new CleanupStack(logger);
    const released: string[] = [];
    stack.push('first', () => void released.push('first'));
    stack.push('hangs', () => new Promise(() => undefined), { limitMs: 20 });
    stack.push('throws', () => {
      throw new Error('boom');
    });
    await stack.release();
    expect(released).to.deep.equal(['first']);
  });

  it('refuses new parts once it is releasing (a late start cannot leak)', async () => {
    const stack = new CleanupStack(logger);
    void stack.release();
    expect(() => stack.push('late', () => undefined)).to.throw(/while the application is stopping/);
  });
});
