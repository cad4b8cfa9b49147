import 'reflect-metadata';
import { expect } from 'chai';
import { decideIdle, decideIdleFor, IdleDecisions, type IdleInput } from './idle-rules';
import type { SessionEntity } from '../sessions/session.entity';
import { decideScale, desiredReplicas } from './scaling-rules';
import { beaconToken } from './beacon.routes';
import { plainIp } from './connection.service';
import { createAppPubSub, decodeEvent, encodeEvent } from '../../platform/graphql/pubsub';

const T0 = new Date('2030-01-01T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function idle(over: Partial<IdleInput> = {}) {
  return decideIdle({
    state: 'running',
    phase: 'Running',
    activeConnections: 0,
    defaultIdleTimeoutMs: 30 * 60_000,
    runningSince: T0,
    lastConnection: null,
    lastDisconnect: null,
    lastActivity: null,
    now: at(10),
    ...over,
  });
}

describe('connections: pure rules', () => {
  describe('idle clock', () => {
    it('takes the idle timeout from the session, else the template, else the server', () => {
      expect(idle({ sessionIdleTimeout: '5m', templateIdleTimeout: '1h' })).to.deep.include({ idleTimeout: '5m', idleTimeoutSource: 'session' });
      expect(idle({ templateIdleTimeout: '1h' })).to.deep.include({ idleTimeout: '1h', idleTimeoutSource: 'template' });
      expect(idle()).to.deep.include({ idleTimeout: '30m', idleTimeoutSource: 'server' });
    });

    it('reports the latest of activity, connect and disconnect as last activity, skipping missing and invalid dates', () => {
      expect(idle({ lastActivity: at(7), lastConnection: at(9), lastDisconnect: at(8) }).lastActivity).to.deep.equal(at(9));
      expect(idle({ lastActivity: at(12), lastConnection: new Date('x'), lastDisconnect: null }).lastActivity).to.deep.equal(at(12));
      expect(idle({ lastActivity: new Date('x'), lastConnection: null, lastDisconnect: at(3) }).lastActivity).to.deep.equal(at(3));
      expect(idle().lastActivity).to.equal(null);
      // An invalid running-since does not count either: the latest valid one does.
      expect(idle({ runningSince: new Date('x'), sessionIdleTimeout: '1m', lastConnection: at(2) }).idleSince).to.deep.equal(at(2));
    });

    it('refuses an idle timeout that is not a duration every time it is asked (no remembered answer)', () => {
      for (let i = 0; i < 2; i++) expect(() => idle({ sessionIdleTimeout: '5 minutes' })).to.throw('invalid duration "5 minutes"');
      expect(idle({ sessionIdleTimeout: '90s' })).to.deep.include({ idleTimeoutMs: 90_000, idleTimeout: '90s' });
    });

    it('counts from the latest of running-since, last connect and last disconnect (database timestamps)', () => {
      const d = idle({ sessionIdleTimeout: '1m', lastConnection: at(5), lastDisconnect: at(20), lastActivity: at(19), now: at(30) });
      expect(d.idleSince).to.deep.equal(at(20));
      expect(d.hibernatesAt).to.deep.equal(at(80));
      expect(d.reason).to.contain('No active connections since 2030-01-01T10:00:20.000Z');
      // The same inputs give the same deadline whenever (and wherever) it is computed: a restart keeps the clock.
      expect(idle({ sessionIdleTimeout: '1m', lastConnection: at(5), lastDisconnect: at(20), now: at(70) }).hibernatesAt).to.deep.equal(at(80));
      // Never connected: counts from when it became Running.
      expect(idle({ sessionIdleTimeout: '1m' }).hibernatesAt).to.deep.equal(at(60));
    });

    it('has no deadline while connections keep it alive, and honours minConnections', () => {
      const one = idle({ activeConnections: 1 });
      expect(one.hibernatesAt).to.equal(null);
      expect(one.reason).to.equal('1 active connection keeps the session running; it hibernates once they end');
      expect(idle({ activeConnections: 3 }).reason).to.contain('3 active connections keep the session running');
      const below = idle({ activeConnections: 1, minConnections: 2, lastConnection: at(3), sessionIdleTimeout: '10s' });
      expect(below.hibernatesAt).to.deep.equal(at(13));
      expect(below.reason).to.contain('Only 1 of the 2 connections (minConnections)');
      const never = idle({ minConnections: 0 });
      expect(never.hibernatesAt).to.equal(null);
      expect(never.reason).to.contain('minConnections is 0');
    });

    it('does not run while hibernated or starting', () => {
      expect(idle({ state: 'hibernated', phase: 'Hibernated' })).to.deep.include({ hibernatesAt: null, reason: 'The session is hibernated; it does not run, so it cannot idle' });
      expect(idle({ phase: 'Pending' }).reason).to.contain('the idle clock starts once it is Running');
    });
  });

  describe('kept idle decisions', () => {
    const row = (over: Partial<SessionEntity> = {}): SessionEntity =>
      ({
        id: 'a3c1f1de-8a39-4c6e-9d1e-000000000001',
        template: 'firefox',
        state: 'running',
        phase: 'Running',
        activeConnections: 0,
        lastConnectionAt: at(60),
        lastDisconnectAt: at(120),
        lastActivityAt: at(90),
        spec: { minConnections: 1 },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'PodReady', message: '', lastTransitionTime: T0.toISOString() }] },
        ...over,
      }) as SessionEntity;
    // Every input of the decision, changed one at a time (each alone changes the decision).
    const changes: [string, Partial<SessionEntity>, string | null, number][] = [
      ['state', { state: 'hibernated' }, null, 1800_000],
      ['phase', { phase: 'Pending' }, null, 1800_000],
      ['active connections', { activeConnections: 1 }, null, 1800_000],
      ['minConnections', { spec: { minConnections: 0 } }, null, 1800_000],
      ['session idle timeout', { spec: { minConnections: 1, idleTimeout: '45m' } }, null, 1800_000],
      ['template idle timeout', {}, '2h', 1800_000],
      ['server default', {}, null, 3600_000],
      ['Ready transition', { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'PodReady', message: '', lastTransitionTime: at(500).toISOString() }] } }, null, 1800_000],
      ['last connection', { lastConnectionAt: at(900) }, null, 1800_000],
      ['last disconnect', { lastDisconnectAt: at(950) }, null, 1800_000],
      ['last activity', { lastActivityAt: at(980) }, null, 1800_000],
    ];

    it('answers what decideIdleFor answers, whichever input changed since the last decision', () => {
      const kept = new IdleDecisions();
      const now = new Date();
      const first = kept.decide(row(), null, 1800_000);
      expect(first).to.deep.equal(decideIdleFor(row(), null, 1800_000, now));
      // Unchanged inputs (a new row object, as each page reads): the kept decision itself.
      expect(kept.decide(row(), null, 1800_000)).to.equal(first);
      for (const [what, over, templateIdle, defaultMs] of changes) {
        const answer = kept.decide(row(over), templateIdle, defaultMs);
        expect(answer, what).to.deep.equal(decideIdleFor(row(over), templateIdle, defaultMs, now));
        expect(answer, what).to.not.deep.equal(first);
        // ...and back: the first inputs' decision again.
        expect(kept.decide(row(), null, 1800_000), `${what}, back`).to.deep.equal(first);
      }
    });

    it('never keeps a decision that counted from the current time, and forgets everything when full', () => {
      const kept = new IdleDecisions(2);
      // Running without a Ready time, a connect or a disconnect: idle since now (a new time on every decision).
      const noTimes = row({ lastConnectionAt: null, lastDisconnectAt: null, status: {} });
      const a = kept.decide(noTimes, null, 1800_000);
      expect(kept.size).to.equal(0);
      expect(kept.decide(noTimes, null, 1800_000)).to.not.equal(a);
      kept.decide(row({ id: 'one' }), null, 1800_000);
      kept.decide(row({ id: 'two' }), null, 1800_000);
      expect(kept.size).to.equal(2);
      kept.decide(row({ id: 'three' }), null, 1800_000);
      expect(kept.size).to.equal(1);
    });
  });

  describe('autoscaling', () => {
    it('replicas = clamp(ceil(active / targetConnections), min, max), at least 1', () => {
      const as = { minReplicas: 1, maxReplicas: 4, targetConnections: 3 };
      expect([0, 1, 3, 4, 6, 7, 12, 13, 100].map((n) => desiredReplicas({ ...as, activeConnections: n }))).to.deep.equal([1, 1, 1, 2, 2, 3, 4, 4, 4]);
      expect(desiredReplicas({ minReplicas: 2, maxReplicas: 5, targetConnections: 10, activeConnections: 0 })).to.equal(2);
      expect(desiredReplicas({ minReplicas: 0, targetConnections: 1, activeConnections: 0 })).to.equal(1);
    });

    it('scales up at once and down only after the cool-down', () => {
      const base = { minReplicas: 1, maxReplicas: 5, targetConnections: 1, cooldownMs: 60_000, now: at(100) };
      expect(decideScale({ ...base, activeConnections: 3, currentReplicas: 1, lastScaledAt: at(99) })).to.deep.include({ change: true, replicas: 3 });
      const waiting = decideScale({ ...base, activeConnections: 1, currentReplicas: 3, lastScaledAt: at(80) });
      expect(waiting).to.deep.include({ change: false, replicas: 3 });
      expect(waiting.waitUntil).to.deep.equal(at(140));
      expect(decideScale({ ...base, activeConnections: 1, currentReplicas: 3, lastScaledAt: at(30) })).to.deep.include({ change: true, replicas: 1 });
      expect(decideScale({ ...base, activeConnections: 2, currentReplicas: 2, lastScaledAt: null })).to.deep.include({ change: false });
    });
  });

  describe('wire formats', () => {
    it('pub/sub events keep Dates across NOTIFY', () => {
      const value = { session: { id: 'x', createdAt: T0, nested: [{ at: at(1) }], none: null }, n: 1 };
      const back = decodeEvent(encodeEvent(value)) as typeof value;
      expect(back).to.deep.equal(value);
      expect(back.session.createdAt).to.be.instanceOf(Date);
    });

    it('local-only topics are not sent to other replicas; others are', () => {
      const pubSub = createAppPubSub();
      const sent: string[] = [];
      pubSub.setRemote((topic) => sent.push(topic));
      pubSub.markLocalOnly('MIRRORED');
      pubSub.publish('MIRRORED', 1);
      pubSub.publish('SHARED', 2);
      expect(sent).to.deep.equal(['SHARED']);
    });

    it('beacon bodies: text, JSON or a form field', () => {
      expect(beaconToken('abc')).to.equal('abc');
      expect(beaconToken('{"token":"abc"}')).to.equal('abc');
      expect(beaconToken('token=abc&x=1')).to.equal('abc');
      expect(beaconToken('{bad')).to.equal('');
    });

    it('IPv4-mapped addresses become plain IPv4 for the Connection object', () => {
      expect(plainIp('::ffff:10.1.2.3')).to.equal('10.1.2.3');
      expect(plainIp('::1')).to.equal('::1');
      expect(plainIp(undefined)).to.equal(null);
    });
  });
});
