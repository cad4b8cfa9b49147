import { expect } from 'chai';
import type { CreateSessionInput } from './dto/session.input';
import { isPlainLaunch } from './session.service';

describe('sessions: which creates are launches (they wake a hibernated session of the template)', () => {
  const input = (fields: Partial<CreateSessionInput>) => ({ template: 'firefox', ...fields }) as CreateSessionInput;

  it('the template alone (unset settings as null or undefined) is a launch', () => {
    expect(isPlainLaunch(input({}))).to.equal(true);
    expect(isPlainLaunch(input({ idleTimeout: undefined, resources: null as never, newSession: false }))).to.equal(true);
  });

  it('any setting, or newSession: true, asks for a new session', () => {
    for (const fields of [{ idleTimeout: '30m' }, { persistentHome: false }, { autoStart: true }, { maxConnections: 2 }, { resources: { limits: { cpu: '1' } } }, { newSession: true }]) {
      expect(isPlainLaunch(input(fields as Partial<CreateSessionInput>)), JSON.stringify(fields)).to.equal(false);
    }
  });
});
