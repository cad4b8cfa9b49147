import { expect } from 'chai';
import { AppError } from '../../platform/graphql/errors';
import { checkResourceMaximum, resourceMaximum, resourcesOf } from './quota.service';

const GiB = 2 ** 30;

function refusal(fn: () => void): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a refusal');
}

describe('quotas: what a session counts for and may ask for (pure)', () => {
  it('counts limits, else requests', () => {
    expect(resourcesOf({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } })).to.deep.equal({ cpu: 2, memory: GiB });
    expect(resourcesOf({ requests: { cpu: '250m' }, limits: { memory: '1Gi' } })).to.deep.equal({ cpu: 0.25, memory: GiB });
    expect(resourcesOf(undefined)).to.deep.equal({ cpu: 0, memory: 0 });
  });

  it('caps at the template\'s limits, else at the user\'s quota', () => {
    const max = resourceMaximum({ limits: { cpu: '1' } }, { cpu: 4, memory: 8 * GiB });
    expect(max).to.deep.equal({ cpu: { value: 1, from: 'template' }, memory: { value: 8 * GiB, from: 'quota' } });
    checkResourceMaximum({ requests: { cpu: '1' }, limits: { cpu: '1', memory: '8Gi' } }, max);
    const cpu = refusal(() => checkResourceMaximum({ limits: { cpu: '1100m' } }, max));
    expect(cpu.code).to.equal('QUOTA_EXCEEDED');
    expect(cpu.details).to.deep.equal({ reason: 'ResourcesAboveMaximum', resource: 'cpu', field: 'limits', requested: 1.1, maximum: 1, maximumFrom: 'template' });
    const mem = refusal(() => checkResourceMaximum({ requests: { memory: '9Gi' } }, max));
    expect(mem.details).to.include({ resource: 'memory', field: 'requests', maximumFrom: 'quota' });
    expect(mem.message).to.equal('Resources above the maximum: memory requests of 9 GiB of memory > your quota of 8 GiB of memory');
  });
});
