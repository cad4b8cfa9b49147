import type { envSchema } from './config';

/**
 * The README's configuration table is generated from this map (`npm run docs:config`), and a test fails when
 * the README is out of step. The `satisfies` clause makes a variable added to envSchema without a line here a
 * type error, so no setting goes undocumented.
 */
export const ENV_DOCS = {
  PORT: { default: '8080', doc: 'HTTP port for the API, the GraphQL IDE, the clients, health and metrics (0 picks a free port).' },
  HOST: { default: '0.0.0.0', doc: 'Address to listen on.' },
  DATABASE_URL: { default: '(embedded)', doc: 'PostgreSQL URL (`postgres://user:password@host:5432/db`). Unset: a real embedded PostgreSQL whose data lives in `$STREAMSPACE_DATA_DIR/postgres`.' },
  STREAMSPACE_DATA_DIR: { default: '.streamspace', doc: 'Where local state lives: the embedded PostgreSQL, the local cluster, the catalog git cache.' },
  LOG_LEVEL: { default: 'info', doc: 'fatal, error, warn, info, debug, trace or silent. Logs are JSON lines (pino) with a request id.' },
  STREAMSPACE_MIGRATIONS_RUN: { default: 'true', doc: 'Apply pending database migrations at start (`npm run migrate` does it by hand).' },
  STREAMSPACE_GRAPHQL_INTROSPECTION: { default: 'true', doc: 'Allow schema introspection.' },
  STREAMSPACE_GRAPHQL_IDE: { default: 'true', doc: 'Serve the bundled GraphiQL IDE at `GET /graphql` in a browser.' },
  STREAMSPACE_GRAPHQL_MAX_DEPTH: { default: '20', doc: 'Deepest selection an operation may have (2-100).' },
  STREAMSPACE_GRAPHQL_MAX_COMPLEXITY: { default: '10000', doc: 'Complexity budget of one operation: every field 1, pages and lists multiply what they select by their size, each Kubernetes-backed field adds 500.' },
  STREAMSPACE_GRAPHQL_MAX_ALIASES: { default: '15', doc: 'Most aliases one operation may use (graphql-armor).' },
  STREAMSPACE_GRAPHQL_MAX_DIRECTIVES: { default: '50', doc: 'Most directives one operation may use (graphql-armor).' },
  STREAMSPACE_TRUST_PROXY: { default: 'loopback', doc: 'Proxies whose X-Forwarded-For names the client IP (login rate limit, audit): `none`, or a comma-separated list of IPs, CIDRs, `loopback`, `linklocal`, `uniquelocal`. Name your ingress controller\'s pod range here; never trust every private range (session pods could forge their IP).' },
  STREAMSPACE_GRAPHQL_WS_MAX_PAYLOAD: { default: '1048576', doc: 'Largest graphql-ws message, in bytes (larger ones close the socket with 1009).' },
  STREAMSPACE_GRAPHQL_WS_ANONYMOUS_TIMEOUT: { default: '60s', doc: 'A graphql-ws socket without an access token is closed (4401) after this long; one that sends no connection_init within 3s is closed at once.' },
  STREAMSPACE_GRAPHQL_WS_MAX_SOCKETS_PER_USER: { default: '20', doc: 'Open graphql-ws sockets one user may have on a replica (more are closed with 4429).' },
  STREAMSPACE_GRAPHQL_WS_MAX_SUBSCRIPTIONS_PER_USER: { default: '50', doc: 'Active subscriptions one user may have on a replica, across sockets (more are refused with LIMIT_EXCEEDED).' },
  STREAMSPACE_CLUSTER: { default: 'auto', doc: '`auto` (in-cluster, else KUBECONFIG or ~/.kube/config, else a local simulated cluster), `in-cluster`, `kubeconfig`, `local` or `none`.' },
  KUBECONFIG: { default: '~/.kube/config', doc: 'Kubeconfig file(s) for `auto` and `kubeconfig`; a named but broken file is an error, never a silent fallback.' },
  STREAMSPACE_SHUTDOWN_TIMEOUT: { default: '10s', doc: 'How long SIGTERM waits for HTTP and WebSocket connections to drain.' },
  STREAMSPACE_DB_HEALTH_TIMEOUT: { default: '2s', doc: 'Time limit of the database check in `/readyz`.' },
  STREAMSPACE_METRICS_TOKEN: { default: '', doc: 'When set (16+ characters), `GET /metrics` answers 401 unless called with `Authorization: Bearer <this token>` (or an admin\'s access token, as the admin console does). Never logged.' },
  STREAMSPACE_GIT_ALLOW_FILE: { default: 'false', doc: 'Allow `file://` catalog repositories (tests and air-gapped mirrors).' },
  STREAMSPACE_GIT_TIMEOUT: { default: '5m', doc: 'Time limit of one git clone or fetch.' },
  STREAMSPACE_GIT_SSH_KNOWN_HOSTS: {
    default: '(none)',
    doc: 'Pinned ssh host keys trusted for every ssh catalog repository: known_hosts lines (as `ssh-keyscan` prints them), one per line. An ssh repository needs these, its own `knownHosts` or a `known_hosts` key in its auth Secret.',
  },
  STREAMSPACE_CATALOG_MAX_FILE_SIZE: { default: '1048576', doc: 'Largest catalog file read, in bytes; larger files are skipped with an error.' },
  STREAMSPACE_CATALOG_MAX_FILES: { default: '20000', doc: 'Most files read from one catalog repository.' },
  STREAMSPACE_CATALOG_REPOSITORY: { default: '', doc: 'Git URL of the template catalog added on first start (only while there is no repository); unset: start with an empty catalog.' },
  STREAMSPACE_CATALOG_REPOSITORY_BRANCH: { default: 'main', doc: 'Branch of `STREAMSPACE_CATALOG_REPOSITORY`.' },
  STREAMSPACE_COMMIT: { default: '(from git)', doc: 'Commit reported by `Query.version` (set by image builds).' },
  STREAMSPACE_BUILD_DATE: { default: '(build time)', doc: 'Build date reported by `Query.version`.' },
  STREAMSPACE_PUBLIC_URL: { default: '', doc: 'External base URL, such as https://streamspace.example.com; its origin is trusted for CORS and CSRF, and OIDC callbacks use it.' },
  STREAMSPACE_TRUSTED_ORIGINS: { default: '', doc: 'Comma-separated extra origins allowed to call the API from a browser and to use the refresh cookie.' },
  STREAMSPACE_ADMIN_USERNAME: { default: 'admin', doc: 'Username of the bootstrap admin created on first start.' },
  STREAMSPACE_ADMIN_PASSWORD: { default: '(generated)', doc: 'Password of the bootstrap admin; when unset one is generated and written to `STREAMSPACE_ADMIN_PASSWORD_FILE` (never to the log).' },
  STREAMSPACE_ADMIN_PASSWORD_FILE: { default: '$STREAMSPACE_DATA_DIR/bootstrap-admin-password', doc: 'File (mode 0600) that receives a generated bootstrap admin password on first start; the log says only where it is. Delete it after the first sign-in.' },
  STREAMSPACE_JWT_SIGNING_KEY: { default: '(generated)', doc: 'PKCS#8 PEM private key that signs access tokens; when unset a key is generated and kept in the database.' },
  STREAMSPACE_ACCESS_TOKEN_TTL: { default: '15m', doc: 'Lifetime of an access token (JWT).' },
  STREAMSPACE_REFRESH_TOKEN_TTL: { default: '720h', doc: 'Lifetime of a refresh token (HttpOnly cookie, rotated on every use).' },
  STREAMSPACE_REFRESH_ABSOLUTE_LIFETIME: { default: '720h', doc: 'Longest a sign-in lasts, however often its refresh token rotates: a refresh after this long from the sign-in is refused (`sign_in_expired`) and the user signs in again.' },
  STREAMSPACE_COOKIE_SECURE: { default: 'auto', doc: '`auto` marks cookies Secure behind TLS; `true` or `false` force it.' },
  STREAMSPACE_LOGIN_RATE_LIMIT_PER_IP: { default: '30', doc: 'Failed sign-ins per client IP per window (429 with Retry-After beyond).' },
  STREAMSPACE_LOGIN_RATE_LIMIT_PER_USERNAME: { default: '10', doc: 'Failed sign-ins per username per window.' },
  STREAMSPACE_LOGIN_RATE_LIMIT_WINDOW: { default: '15m', doc: 'Window of the login rate limits.' },
  STREAMSPACE_OIDC_ISSUER: { default: '', doc: 'OIDC issuer URL (discovery); with the client id and secret it enables "Sign in with ...". See docs/identity.md.' },
  STREAMSPACE_OIDC_CLIENT_ID: { default: '', doc: 'OIDC client id.' },
  STREAMSPACE_OIDC_CLIENT_SECRET: { default: '', doc: 'OIDC client secret (never logged).' },
  STREAMSPACE_OIDC_REDIRECT_URL: { default: '$PUBLIC_URL/auth/oidc/callback', doc: 'Callback URL registered at the provider.' },
  STREAMSPACE_OIDC_SCOPES: { default: 'openid profile email', doc: 'Scopes requested from the provider.' },
  STREAMSPACE_OIDC_USERNAME_CLAIM: { default: 'preferred_username', doc: 'Claim that names the user.' },
  STREAMSPACE_OIDC_GROUPS_CLAIM: { default: 'groups', doc: 'Claim that lists the user\'s groups.' },
  STREAMSPACE_OIDC_ADMIN_GROUPS: { default: '', doc: 'Comma-separated groups whose members become admins.' },
  STREAMSPACE_OIDC_OPERATOR_GROUPS: { default: '', doc: 'Comma-separated groups whose members become operators (every session, templates and catalog), unless an admin group lists them too.' },
  STREAMSPACE_OIDC_AUDITOR_GROUPS: { default: '', doc: 'Comma-separated groups whose members become auditors (read everything admins read, change nothing), unless an admin or operator group lists them too.' },
  STREAMSPACE_OIDC_SYNC_GROUPS: { default: 'false', doc: 'At each OIDC sign-in, make the user a member of the StreamSpace groups named like their IdP groups and remove the memberships a previous sign-in added that the claim no longer lists (memberships added by admins stay).' },
  STREAMSPACE_OIDC_POST_LOGIN_REDIRECT: { default: '/', doc: 'Path the browser returns to after an OIDC login.' },
  STREAMSPACE_QUOTA_MAX_SESSIONS: { default: '10', doc: 'Default quota: sessions a user may have (any state).' },
  STREAMSPACE_QUOTA_MAX_RUNNING_SESSIONS: { default: '3', doc: 'Default quota: running sessions a user may have.' },
  STREAMSPACE_QUOTA_CPU: { default: '8', doc: 'Default quota: CPU cores across a user\'s running sessions.' },
  STREAMSPACE_QUOTA_MEMORY: { default: '16Gi', doc: 'Default quota: memory across a user\'s running sessions.' },
  STREAMSPACE_PORTAL_ANNOUNCEMENT: { default: '', doc: 'Default text of the banner at the top of the user portal (at most 500 characters; empty: no banner).' },
  STREAMSPACE_NAMESPACE: { default: 'streamspace', doc: 'Namespace of Sessions, Templates and session workloads.' },
  STREAMSPACE_PLATFORM_NAMESPACE: { default: '(in a cluster: the pod\'s own namespace)', doc: 'Namespace of the platform\'s own pods and Secret: the admin console refuses exec, logs, apply and delete there (the Helm chart sets the release namespace). Keep sessions out of it.' },
  STREAMSPACE_INSTALL_CRDS: { default: 'true', doc: 'Create or update the StreamSpace CRDs (crds/) at start; turn off when Helm or an operator installs them.' },
  STREAMSPACE_LEADER_ELECTION: { default: 'true', doc: 'Elect one leader among replicas (Lease streamspace-leader) to run the reconciler and jobs; false means this replica always leads.' },
  STREAMSPACE_LEADER_LEASE_DURATION: { default: '15s', doc: 'Leader lease duration; a dead leader is replaced after this long (renewed every third of it).' },
  STREAMSPACE_RECONCILE_RESYNC: { default: '5m', doc: 'Periodic resync of every Session and Template by the reconciler (besides the watch).' },
  STREAMSPACE_SESSION_STARTUP_TIMEOUT: { default: '5m', doc: 'Default startupTimeout: a session whose pod is not Ready by then is Failed.' },
  STREAMSPACE_SESSION_INGRESS: { default: 'none', doc: 'Session Ingress straight to the session, around the gateway (only with STREAMSPACE_GATEWAY_MODE=off): none (no Ingress; a ClusterIP Service only when the gateway is off), host (<session>.<domain>) or path (<host>/sessions/<session>/).' },
  STREAMSPACE_SESSION_DOMAIN: { default: '', doc: 'Domain of per-session hosts (required for ingress mode host); a :port suffix is kept in session URLs only.' },
  STREAMSPACE_SESSION_HOST: { default: '', doc: 'Shared host of path-routed sessions (required for ingress mode path); a :port suffix is kept in session URLs only.' },
  STREAMSPACE_SESSION_INGRESS_CLASS: { default: '', doc: 'ingressClassName of session Ingresses.' },
  STREAMSPACE_SESSION_TLS_SECRET: { default: '', doc: 'TLS secret of session Ingresses (URLs become https).' },
  STREAMSPACE_HOME_SIZE: { default: '10Gi', doc: 'Size of each user\'s persistent home volume.' },
  STREAMSPACE_HOME_STORAGE_CLASS: { default: '', doc: 'Storage class of home volumes (cluster default when empty).' },
  STREAMSPACE_SESSION_DEFAULT_CPU: { default: '', doc: 'CPU a session requests when neither it nor its template sets resources (empty or 0: none). Admins override it at runtime (Configuration).' },
  STREAMSPACE_SESSION_DEFAULT_MEMORY: { default: '', doc: 'Memory a session requests when neither it nor its template sets resources (empty or 0: none). Admins override it at runtime.' },
  STREAMSPACE_SESSION_MAX_CPU: { default: '', doc: 'Most CPU one session may request or be limited to (empty or 0: no maximum). Admins override it at runtime.' },
  STREAMSPACE_SESSION_MAX_MEMORY: { default: '', doc: 'Most memory one session may request or be limited to (empty or 0: no maximum). Admins override it at runtime.' },
  STREAMSPACE_SESSION_MAX_DURATION: { default: '', doc: 'Longest a session may live (such as 8h) before it is terminated; a longer `maxSessionDuration` is refused (empty: no limit). Admins override it at runtime.' },
  STREAMSPACE_FEATURE_SHARING: { default: 'true', doc: 'Owners may share sessions with users and groups (off: new shares are refused). Admins override it at runtime.' },
  STREAMSPACE_FEATURE_CATALOG: { default: 'true', doc: 'Users may browse the template catalog (off: only admins). Admins override it at runtime.' },
  STREAMSPACE_FEATURE_INTERNET_EGRESS: { default: 'true', doc: 'Session pods may reach the internet (off: a NetworkPolicy lets them reach only the cluster and DNS). Admins override it at runtime.' },
  STREAMSPACE_LOCAL_REAL_NODE: { default: 'auto', doc: 'Local mode: `auto` also runs a real node (containerd + kubelet; Linux and root) where the machine can, so sessions run for real, with demo desktop and web-app templates; `off` keeps every node simulated. The reason is logged once when it cannot.' },
  STREAMSPACE_SESSION_NODE_SELECTOR: { default: '', doc: 'Dedicated nodes for session pods: key=value[,key=value...] labels the pods select; they also tolerate NoSchedule taints with the same key and value (the local cluster\'s real node is streamspace.io/real-node=true).' },
  STREAMSPACE_HEARTBEAT_INTERVAL: { default: '30s', doc: 'How often clients send a heartbeat per connection (told in connectSession); shorter than the timeout. Unset: 30s, or half the timeout when that is shorter.' },
  STREAMSPACE_HEARTBEAT_TIMEOUT: { default: '60s', doc: 'A connection with no heartbeat for this long is ended by the reaper.' },
  STREAMSPACE_MONITORING_INTERVAL: { default: '30s', doc: 'How often the leader samples the platform\'s series into PostgreSQL and evaluates the alert rules (`metrics-sampler` job); every replica probes PostgreSQL and the API server as often.' },
  STREAMSPACE_MONITORING_RETENTION: { default: '168h', doc: 'Samples older than this are deleted by the leader\'s `metrics-retention` job (at least 1h).' },
  STREAMSPACE_ALERT_WEBHOOK_URL: { default: '', doc: 'Where alerts that fire or resolve are POSTed as JSON when their rule has no webhook of its own (unset: none). May carry a token: never logged nor shown (the console shows its host only).' },
  STREAMSPACE_ALERT_WEBHOOK_TIMEOUT: { default: '5s', doc: 'Time limit of one webhook delivery; a failure is logged, never retried, and never delays sampling.' },
  STREAMSPACE_REAPER_INTERVAL: { default: '15s', doc: 'How often the leader runs the `heartbeat-reaper` job.' },
  STREAMSPACE_IDLE_TIMEOUT: { default: '30m', doc: 'Hibernate a session after this long without connections when neither the session nor its template sets `idleTimeout`.' },
  STREAMSPACE_HIBERNATION_INTERVAL: { default: '30s', doc: 'How often the leader runs the `hibernation-timer` job (deadlines come from database timestamps, not from this interval).' },
  STREAMSPACE_AUTOSCALER_INTERVAL: { default: '15s', doc: 'How often the leader runs the `session-autoscaler` job for multi-user templates with `autoScaling.enabled`.' },
  STREAMSPACE_AUTOSCALE_COOLDOWN: { default: '5m', doc: 'Least time between two replica changes of one session; scale-ups are immediate, scale-downs wait.' },
  STREAMSPACE_PUBSUB: { default: 'postgres', doc: '`postgres`: subscription events travel over PostgreSQL LISTEN/NOTIFY and reach clients on every replica; `memory`: this process only.' },
  STREAMSPACE_GATEWAY_MODE: { default: 'host', doc: 'Session gateway: `host` (every session on its own unguessable subdomain of the apps domain), `path` (`/s/<id>/` on the apps host; refused at start when the apps host is the platform\'s) or `off` (sessions reached only through STREAMSPACE_SESSION_INGRESS, without authentication: not recommended). connectSession answers a single-use ticket URL on the session\'s host; the portal opens it. See docs/security.md.' },
  STREAMSPACE_GATEWAY_PORT: { default: '8081', doc: 'Port the session gateway listens on (0 picks a free port); route the apps domain (wildcard DNS and certificate) to it.' },
  STREAMSPACE_APPS_DOMAIN: { default: 'apps.localhost:<gateway port>', doc: 'Apps domain as browsers reach it, such as apps.example.com (optionally :port); never the platform\'s host.' },
  STREAMSPACE_APPS_SCHEME: { default: '(https; http for *.localhost)', doc: 'Scheme of session URLs; `https` marks the gateway cookie Secure.' },
  STREAMSPACE_GATEWAY_TICKET_TTL: { default: '30s', doc: 'Lifetime of the single-use ticket in a session URL (at most 60s).' },
  STREAMSPACE_GATEWAY_RECHECK_INTERVAL: { default: '15s', doc: 'Besides events, open proxied sockets have their access checked again this often.' },
  STREAMSPACE_SESSION_NETWORK_POLICY: { default: '(gateway when the gateway is on, else off)', doc: '`gateway`: every session gets a NetworkPolicy admitting only the gateway\'s pods (label `stream.streamspace.io/gateway=true`) on its ports; `off`: none (with the gateway off, a policy admitting only the gateway would also cut off an Ingress). Enforced only by a network plugin that implements NetworkPolicy.' },
  STREAMSPACE_GATEWAY_NAMESPACE: { default: '$STREAMSPACE_NAMESPACE', doc: 'Namespace of the gateway\'s pods, for the per-session NetworkPolicy (the Helm chart sets the release namespace).' },
  STREAMSPACE_GATEWAY_ACTIVITY_INTERVAL: { default: '5s', doc: 'Traffic through the gateway counts as a connection\'s activity (a batched heartbeat) at most this often.' },
} satisfies Record<keyof typeof envSchema.shape, { default: string; doc: string }>;

export const README_TABLE_START = '<!-- config-table:start (generated by `npm run docs:config`; do not edit) -->';
export const README_TABLE_END = '<!-- config-table:end -->';

/** The Markdown table the README carries between the markers. */
export function renderConfigTable(): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const rows = Object.entries(ENV_DOCS).map(
    ([name, d]) => `| \`${name}\` | ${d.default ? `\`${escape(d.default)}\`` : ''} | ${escape(d.doc)} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Replaces the table between the markers; throws when the markers are missing. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(README_TABLE_START);
  const end = readme.indexOf(README_TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md lacks the config-table markers');
  return readme.slice(0, start + README_TABLE_START.length) + '\n' + renderConfigTable() + '\n' + readme.slice(end);
}
