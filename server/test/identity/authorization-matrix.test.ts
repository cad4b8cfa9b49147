import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  subscribe,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { publishSessionChange } from '../../src/modules/sessions/session-table';
import { SessionEntity } from '../../src/modules/sessions/session.entity';
import type { GraphQLContext } from '../../src/platform/graphql/context';
import { LoaderRegistry } from '../../src/platform/graphql/loaders';
import { buildAppSchema } from '../../src/composition/resolvers';
import { startTestApp, type TestApp } from '../support/app';
import { createUserAndToken, signInAsAdmin, type SignedIn, type TestUser } from '../support/auth';

/**
 * Who may call each operation. Every Query, Mutation and Subscription field of schema.graphql needs a
 * row here: a new field without one fails this test, so nobody adds an operation without deciding.
 * - public: anyone, signed in or not;
 * - signed-in: any signed-in user (each sees only their own objects);
 * - act: any signed-in user acting for itself, except auditors (FORBIDDEN: they change nothing);
 * - owner: a signed-in user reading one object by id: someone else's id answers NOT_FOUND (tested below);
 *   admins, operators and auditors read every user's;
 * - owner-act: like owner, but a change: auditors get FORBIDDEN; admins and operators act on every user's;
 * - admin: admins only (others get FORBIDDEN, anonymous UNAUTHENTICATED);
 * - operate: admins and operators (sessions, templates, catalog);
 * - operations-read: admins, operators and auditors;
 * - audit-read: admins and auditors (audit log, users, groups, settings, the cluster).
 * The role sets are `Access` in server/src/platform/graphql/authorization.ts.
 */
type Rule = 'public' | 'signed-in' | 'act' | 'owner' | 'owner-act' | 'admin' | 'operate' | 'operations-read' | 'audit-read';
const RULES: Record<string, Rule> = {
  'Query.version': 'public',
  'Query.me': 'signed-in',
  'Query.users': 'audit-read',
  'Query.user': 'audit-read',
  'Query.userSessions': 'operations-read',
  'Query.auditLog': 'audit-read',
  'Query.sessions': 'signed-in',
  'Query.session': 'owner',
  'Query.templates': 'signed-in',
  'Query.template': 'signed-in',
  'Query.catalogTemplates': 'signed-in',
  'Query.catalogTemplate': 'signed-in',
  'Query.catalogCategories': 'signed-in',
  'Query.myFavorites': 'signed-in',
  'Query.recentApps': 'signed-in',
  'Query.repositories': 'operations-read',
  'Query.repository': 'operations-read',
  'Mutation.createUser': 'admin',
  'Mutation.updateUser': 'admin',
  'Mutation.rotateSigningKey': 'admin',
  'Mutation.deleteUser': 'admin',
  'Mutation.resetUserPassword': 'admin',
  'Mutation.changePassword': 'signed-in',
  'Mutation.createSession': 'act',
  'Mutation.hibernateSession': 'owner-act',
  'Mutation.wakeSession': 'owner-act',
  'Mutation.deleteSession': 'owner-act',
  'Mutation.setFavorite': 'act',
  'Mutation.applyTemplateYaml': 'operate',
  'Mutation.createTemplate': 'operate',
  'Mutation.updateTemplate': 'operate',
  'Mutation.deleteTemplate': 'operate',
  'Mutation.approveTemplateSecurity': 'operate',
  'Mutation.installCatalogTemplate': 'operate',
  'Mutation.addRepository': 'operate',
  'Mutation.updateRepository': 'operate',
  'Mutation.removeRepository': 'operate',
  'Mutation.syncRepository': 'operate',
  'Mutation.syncRepositories': 'operate',
  'Subscription.serverTime': 'public',
  'Subscription.sessionUpdated': 'owner',
  'Subscription.mySessionsChanged': 'signed-in',
  'Subscription.repositorySyncProgress': 'operations-read',
  'Query.sessionConnections': 'owner',
  'Query.sessionShares': 'owner',
  'Query.sharedWithMe': 'signed-in',
  'Mutation.shareSession': 'owner-act',
  'Mutation.updateSessionShare': 'owner-act',
  'Mutation.unshareSession': 'owner-act',
  'Subscription.sessionSharesChanged': 'owner',
  'Subscription.mySharesChanged': 'signed-in',
  'Query.sessionGroupShares': 'owner',
  'Mutation.shareSessionWithGroup': 'owner-act',
  'Mutation.updateSessionGroupShare': 'owner-act',
  'Mutation.unshareSessionWithGroup': 'owner-act',
  'Query.groups': 'audit-read',
  'Query.myGroups': 'signed-in',
  'Mutation.createGroup': 'admin',
  'Mutation.updateGroup': 'admin',
  'Mutation.deleteGroup': 'admin',
  'Mutation.addGroupMember': 'admin',
  'Mutation.removeGroupMember': 'admin',
  'Mutation.connectSession': 'owner-act',
  'Mutation.heartbeat': 'owner-act',
  'Mutation.disconnectSession': 'owner-act',
  'Subscription.connectionCountChanged': 'owner',
  'Subscription.sessionProgress': 'owner',
  'Query.clusterNodes': 'audit-read',
  'Query.clusterNamespaces': 'audit-read',
  'Query.clusterPodUsage': 'audit-read',
  'Query.clusterResources': 'audit-read',
  'Query.clusterResource': 'audit-read',
  'Query.podLogs': 'admin',
  'Mutation.applyClusterResourceYaml': 'admin',
  'Mutation.deleteClusterResource': 'admin',
  'Subscription.podLogStream': 'admin',
  'Subscription.podExec': 'admin',
  'Subscription.podShell': 'admin',
  'Mutation.podShellInput': 'admin',
  'Subscription.clusterResourceChanged': 'audit-read',
  'Mutation.setClusterNodeSchedulable': 'admin',
  'Subscription.drainClusterNode': 'admin',
  'Mutation.scaleClusterWorkload': 'admin',
  'Mutation.restartClusterWorkload': 'admin',
  'Query.clusterDeploymentRevisions': 'admin',
  'Mutation.undoClusterDeployment': 'admin',
  'Mutation.restartClusterPod': 'admin',
  'Query.clusterServiceEndpoints': 'admin',
  'Query.clusterEvents': 'admin',
  'Query.clusterApiResources': 'admin',
  'Query.clusterApiObjects': 'admin',
  'Query.clusterApiObject': 'admin',
  'Query.settings': 'audit-read',
  'Query.announcement': 'signed-in',
  'Subscription.announcementChanged': 'signed-in',
  'Mutation.updateSetting': 'admin',
  'Mutation.resetSetting': 'admin',
  'Query.settingVersions': 'admin',
  'Query.previewSettings': 'admin',
  'Mutation.applySettings': 'admin',
  'Mutation.restoreSettingVersion': 'admin',
  'Query.metricSeries': 'admin',
  'Query.alertRules': 'admin',
  'Query.alerts': 'admin',
  'Mutation.updateAlertRule': 'admin',
  'Subscription.alertChanged': 'admin',
  'Query.catalogBrowsingEnabled': 'signed-in',
  'Query.myTemplateRequests': 'signed-in',
  'Query.templateRequests': 'admin',
  'Mutation.requestTemplate': 'act',
  'Query.templateReviews': 'signed-in',
  'Query.templateUsage': 'operations-read',
  'Mutation.rateTemplate': 'act',
  'Mutation.deleteTemplateReview': 'act',
};

const schemaFile = path.resolve(__dirname, '../../../schema.graphql');
const committed = buildSchema(fs.readFileSync(schemaFile, 'utf8'));
const ROOTS = ['Query', 'Mutation', 'Subscription'] as const;

function operations(): { root: (typeof ROOTS)[number]; field: GraphQLField<unknown, unknown> }[] {
  const out: { root: (typeof ROOTS)[number]; field: GraphQLField<unknown, unknown> }[] = [];
  for (const root of ROOTS) {
    const type = committed.getType(root);
    if (type && isObjectType(type)) for (const field of Object.values(type.getFields())) out.push({ root, field });
  }
  return out;
}

/** A syntactically valid literal for an input type (values need not make sense: authorization comes first). */
function literal(type: GraphQLInputType, depth = 0): string {
  if (isNonNullType(type)) return literal(type.ofType, depth);
  if (isListType(type)) return `[${literal(type.ofType, depth)}]`;
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type, depth + 1)}`).join(', ')} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return '1';
      case 'Float':
        return '1.5';
      case 'Boolean':
        return 'false';
      case 'ID':
        return JSON.stringify(randomUUID());
      case 'DateTimeISO':
        return '"2030-01-01T00:00:00.000Z"';
      case 'JSONObject':
        return '{}';
      default:
        return '"x"';
    }
  }
  throw new Error(`no literal for ${String(type)}`);
}

function operationText(root: string, field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((a: GraphQLArgument) => isNonNullType(a.type) && a.defaultValue === undefined);
  const argText = args.length ? `(${args.map((a) => `${a.name}: ${literal(a.type)}`).join(', ')})` : '';
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `${root.toLowerCase()} Matrix_${field.name} { ${field.name}${argText}${selection} }`;
}

const AUTH_CODES = ['UNAUTHENTICATED', 'FORBIDDEN'];

describe('identity: authorization matrix (every operation x anonymous, user A, user B, operator, auditor, admin)', function () {
  this.timeout(300_000);
  let app: TestApp;
  let admin: SignedIn;
  let userA: TestUser;
  let userB: TestUser;
  let operator: TestUser;
  let auditor: TestUser;

  before(async () => {
    app = await startTestApp();
    admin = await signInAsAdmin(app);
    userA = await createUserAndToken(app);
    userB = await createUserAndToken(app);
    operator = await createUserAndToken(app, 'operator');
    auditor = await createUserAndToken(app, 'auditor');
  });
  after(async () => {
    await app?.stop();
  });

  it('has an explicit rule for every operation in schema.graphql, and no rule for a missing one', () => {
    const names = operations().map((o) => `${o.root}.${o.field.name}`);
    const missing = names.filter((n) => !(n in RULES));
    expect(missing, 'operations without a rule in RULES (decide: public, signed-in, owner or admin)').to.deep.equal([]);
    const stale = Object.keys(RULES).filter((n) => !names.includes(n));
    expect(stale, 'rules for operations that no longer exist').to.deep.equal([]);
  });

  /** The error code (or null for success or a non-authorization error) of one operation for one caller. */
  async function outcome(root: string, field: GraphQLField<unknown, unknown>, headers: Record<string, string>, caller: GraphQLContext['caller']): Promise<string | null> {
    const text = operationText(root, field);
    if (root !== 'Subscription') {
      const res = await app.gql(text, undefined, headers);
      const code = res.body.errors?.[0]?.extensions?.code as string | undefined;
      return code && AUTH_CODES.includes(code) ? code : null;
    }
    // Subscriptions: subscribe in-process on the app's own schema; an event stream means "allowed".
    const schema = await appSchema();
    const context: GraphQLContext = { requestId: 'matrix', logger: app.services.logger, caller, loaders: new LoaderRegistry() };
    const result = await subscribe({ schema, document: parse(text), contextValue: context });
    if (Symbol.asyncIterator in result) {
      await result.return?.();
      return null;
    }
    const first = result.errors?.[0];
    const code = ((first?.originalError as { code?: string } | undefined)?.code ?? first?.extensions?.code) as string | undefined;
    return code && AUTH_CODES.includes(code) ? code : null;
  }

  let schemaPromise: ReturnType<typeof buildAppSchema> | undefined;
  function appSchema() {
    schemaPromise ??= buildAppSchema(app.services);
    return schemaPromise;
  }

  it('answers each caller as its rule says', async () => {
    const U = 'UNAUTHENTICATED';
    const F = 'FORBIDDEN';
    // anonymous, user A, user B, operator, auditor, admin
    const expected: Record<Rule, (string | null)[]> = {
      public: [null, null, null, null, null, null],
      'signed-in': [U, null, null, null, null, null],
      act: [U, null, null, null, F, null],
      owner: [U, null, null, null, null, null],
      'owner-act': [U, null, null, null, F, null],
      admin: [U, F, F, F, F, null],
      operate: [U, F, F, null, F, null],
      'operations-read': [U, F, F, null, null, null],
      'audit-read': [U, F, F, F, null, null],
    };
    const mismatches: string[] = [];
    for (const { root, field } of operations()) {
      const name = `${root}.${field.name}`;
      const rule = RULES[name];
      if (!rule) continue; // reported by the test above
      const got = [
        await outcome(root, field, {}, null),
        await outcome(root, field, userA.headers, { id: userA.id, username: userA.username, role: 'user' }),
        await outcome(root, field, userB.headers, { id: userB.id, username: userB.username, role: 'user' }),
        await outcome(root, field, operator.headers, { id: operator.id, username: operator.username, role: 'operator' }),
        await outcome(root, field, auditor.headers, { id: auditor.id, username: auditor.username, role: 'auditor' }),
        await outcome(root, field, admin.headers, { id: admin.user.id, username: admin.user.username, role: 'admin' }),
      ];
      if (JSON.stringify(got) !== JSON.stringify(expected[rule])) {
        mismatches.push(`${name} (${rule}): anonymous/A/B/operator/auditor/admin got ${JSON.stringify(got)}, expected ${JSON.stringify(expected[rule])}`);
      }
    }
    expect(mismatches).to.deep.equal([]);
  });

  describe('ownership: someone else\'s session answers NOT_FOUND, not FORBIDDEN', () => {
    let sessionId: string;
    /** The context a user's operation runs with (for subscribe() straight on the schema). */
    const ctx = (u: TestUser): GraphQLContext => ({
      requestId: 'matrix',
      logger: app.services.logger,
      caller: { id: u.id, username: u.username, role: 'user' },
      loaders: new LoaderRegistry(),
    });
    before(async () => {
      sessionId = randomUUID();
      await app.services.database.dataSource.getRepository(SessionEntity).insert({
        id: sessionId,
        name: `matrix-${sessionId.slice(0, 8)}`,
        namespace: app.services.config.sessions.namespace,
        userId: userA.id,
        username: userA.username,
        template: 'firefox',
        state: 'running',
        phase: 'Running',
        spec: {},
      });
    });

    it('lets the owner and admins read it', async () => {
      for (const caller of [userA, admin]) {
        const res = await app.gql<{ session: { id: string } }>('query($id: ID!) { session(id: $id) { id } }', { id: sessionId }, caller.headers);
        expect(res.body.data?.session.id, JSON.stringify(res.body.errors)).to.equal(sessionId);
      }
    });

    it('answers NOT_FOUND to another user for the query and every session mutation', async () => {
      for (const op of ['query($id: ID!) { session(id: $id) { id } }', ...['hibernateSession', 'wakeSession', 'deleteSession'].map((m) => `mutation($id: ID!) { ${m}(id: $id) { id } }`)]) {
        const res = await app.gql(op, { id: sessionId }, userB.headers);
        expect(res.body.errors?.[0].extensions?.code, op).to.equal('NOT_FOUND');
      }
      const list = await app.gql<{ sessions: { edges: { node: { id: string } }[] } }>('{ sessions { edges { node { id } } } }', undefined, userB.headers);
      expect(list.body.data?.sessions.edges.map((e) => e.node.id)).not.to.include(sessionId);
      const own = await app.gql<{ sessions: { edges: { node: { id: string } }[] } }>('{ sessions { edges { node { id } } } }', undefined, userA.headers);
      expect(own.body.data?.sessions.edges.map((e) => e.node.id)).to.include(sessionId);
    });

    it('delivers change events only to the owner (and admins): B never receives A\'s session', async () => {
      const schema = await appSchema();
      const stream = (await subscribe({
        schema,
        document: parse('subscription { mySessionsChanged { session { id } } }'),
        contextValue: ctx(userB),
      })) as AsyncGenerator<{ data?: { mySessionsChanged: { session: { id: string } } } }>;
      expect(Symbol.asyncIterator in stream).to.equal(true);
      const first = stream.next();
      const repo = app.services.database.dataSource.getRepository(SessionEntity);
      const sessionOfA = await repo.findOneByOrFail({ id: sessionId });
      const sessionOfB = { ...sessionOfA, id: randomUUID(), userId: userB.id, username: userB.username };
      // A's change first, then B's: the first event B sees must be B's own.
      publishSessionChange(app.services.pubSub, { type: 'UPSERTED', session: sessionOfA });
      publishSessionChange(app.services.pubSub, { type: 'UPSERTED', session: sessionOfB });
      const event = await first;
      expect(event.value?.data?.mySessionsChanged.session.id).to.equal(sessionOfB.id);
      await stream.return(undefined);
    });

    it('sessionUpdated: NOT_FOUND for another user at once; the owner gets the current state first, then changes', async () => {
      const schema = await appSchema();
      const document = parse('subscription($id: ID!) { sessionUpdated(id: $id) { id phase } }');
      const refused = (await subscribe({ schema, document, variableValues: { id: sessionId }, contextValue: ctx(userB) })) as { errors?: { originalError?: { code?: string } }[] };
      expect(Symbol.asyncIterator in refused, 'no stream for someone else\'s session').to.equal(false);
      expect(refused.errors?.[0].originalError?.code).to.equal('NOT_FOUND');

      const stream = (await subscribe({ schema, document, variableValues: { id: sessionId }, contextValue: ctx(userA) })) as AsyncGenerator<{
        data?: { sessionUpdated: { id: string; phase: string } };
      }>;
      // The first event is the session as it is now, before anything changed.
      const now = await stream.next();
      expect(now.value?.data?.sessionUpdated).to.deep.equal({ id: sessionId, phase: 'Running' });
      // A change published while nobody asked for the next event is still delivered (the stream listened first).
      const repo = app.services.database.dataSource.getRepository(SessionEntity);
      const row = await repo.findOneByOrFail({ id: sessionId });
      publishSessionChange(app.services.pubSub, { type: 'UPSERTED', session: { ...row, id: randomUUID() } });
      publishSessionChange(app.services.pubSub, { type: 'UPSERTED', session: { ...row, phase: 'Hibernated' } });
      const changed = await stream.next();
      expect(changed.value?.data?.sessionUpdated).to.deep.equal({ id: sessionId, phase: 'Hibernated' });
      // Deleted: the stream ends.
      publishSessionChange(app.services.pubSub, { type: 'DELETED', session: row });
      expect((await stream.next()).done).to.equal(true);
    });

    it('lists a user\'s sessions for admins through userSessions', async () => {
      const res = await app.gql<{ userSessions: { totalCount: number; edges: { node: { id: string } }[] } }>(
        'query($id: ID!) { userSessions(id: $id) { totalCount edges { node { id } } } }',
        { id: userA.id },
        admin.headers,
      );
      expect(res.body.data?.userSessions.edges.map((e) => e.node.id)).to.deep.equal([sessionId]);
      const none = await app.gql('query($id: ID!) { userSessions(id: $id) { totalCount } }', { id: randomUUID() }, admin.headers);
      expect(none.body.errors?.[0].extensions?.code).to.equal('NOT_FOUND');
    });

    it('lets operators and auditors read another user\'s session; operators change it, auditors change nothing', async () => {
      for (const caller of [operator, auditor]) {
        const one = await app.gql<{ session: { id: string } }>('query($id: ID!) { session(id: $id) { id } }', { id: sessionId }, caller.headers);
        expect(one.body.data?.session.id, `${caller.role}: ${JSON.stringify(one.body.errors)}`).to.equal(sessionId);
        const list = await app.gql<{ sessions: { edges: { node: { id: string } }[] } }>('{ sessions(first: 100) { edges { node { id } } } }', undefined, caller.headers);
        expect(list.body.data?.sessions.edges.map((e) => e.node.id), caller.role).to.include(sessionId);
        const shares = await app.gql<{ sessionShares: unknown[] }>('query($id: ID!) { sessionShares(sessionId: $id) { user } }', { id: sessionId }, caller.headers);
        expect(shares.body.errors, `${caller.role} reads the access list`).to.equal(undefined);
      }
      const refused = await app.gql('mutation($id: ID!) { hibernateSession(id: $id) { id } }', { id: sessionId }, auditor.headers);
      expect(refused.body.errors?.[0].extensions?.code).to.equal('FORBIDDEN');
      // The operator passes the ownership check: whatever happens next, it is not "no such session".
      const operated = await app.gql('mutation($id: ID!) { hibernateSession(id: $id) { id state } }', { id: sessionId }, operator.headers);
      expect(operated.body.errors?.[0]?.extensions?.code ?? null, JSON.stringify(operated.body.errors)).not.to.be.oneOf(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED']);
    });
  });
});
