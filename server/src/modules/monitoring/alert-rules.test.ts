import { expect } from 'chai';
import { alertMessage, breached, DEFAULT_RULES, DEPENDENCY_RULES, transition } from './alert-rules';
import { meanBetween, ratePerSecond, SERIES_BY_NAME } from './series';

describe('monitoring: alert rule evaluation and series arithmetic', () => {
  const above = { enabled: true, comparator: 'above', threshold: 0 };

  it('fires once on a breach, stays quiet while breached, resolves once when it clears', () => {
    expect(transition(above, 'ok', 0)).to.equal(null);
    expect(transition(above, 'ok', 1)).to.equal('fired');
    expect(transition(above, 'firing', 2)).to.equal(null);
    expect(transition(above, 'firing', 0)).to.equal('resolved');
    expect(breached('below', 0, 1)).to.equal(true);
    expect(breached('below', 1, 1)).to.equal(false);
  });

  it('keeps the state when a series has no value, and resolves a rule switched off', () => {
    expect(transition(above, 'firing', undefined)).to.equal(null);
    expect(transition(above, 'ok', undefined)).to.equal(null);
    expect(transition({ ...above, enabled: false }, 'firing', 5)).to.equal('resolved');
    expect(transition({ ...above, enabled: false }, 'ok', 5)).to.equal(null);
  });

  it('ships rules only on series that exist, and the dependency rules among them', () => {
    for (const rule of DEFAULT_RULES) expect(SERIES_BY_NAME.has(rule.series), rule.id).to.equal(true);
    for (const id of DEPENDENCY_RULES) expect(DEFAULT_RULES.some((r) => r.id === id), id).to.equal(true);
    expect(alertMessage({ description: 'A node is NotReady.', series: 'nodes_not_ready', comparator: 'above', threshold: 0 }, 2)).to.equal('A node is NotReady. (nodes_not_ready = 2, above 0)');
    expect(alertMessage({ description: 'Quota.', series: 'quota_usage_max_ratio', comparator: 'above', threshold: 0.9 }, 0.95)).to.equal('Quota. (quota_usage_max_ratio = 0.95, above 0.9)');
  });

  it('turns counter readings into rates and mean durations, across a counter reset', () => {
    expect(ratePerSecond(undefined, 10, 30)).to.equal(undefined);
    expect(ratePerSecond(10, 70, 30)).to.equal(2);
    expect(ratePerSecond(100, 30, 30)).to.equal(1); // restarted: counts from 0
    expect(meanBetween(undefined, { sum: 1, count: 1 })).to.equal(undefined);
    expect(meanBetween({ sum: 1, count: 2 }, { sum: 4, count: 5 })).to.equal(1);
    expect(meanBetween({ sum: 1, count: 2 }, { sum: 1, count: 2 })).to.equal(undefined);
  });
});
