import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Identities of the local control plane, each authenticated by a static bearer token. */
export interface LocalClusterTokens {
  admin: string;
  controllerManager: string;
  scheduler: string;
  kwok: string;
}

/** Files and secrets the control plane's components are started with. */
export interface LocalClusterPki {
  dir: string;
  caCertFile: string;
  caKeyFile: string;
  caCertPem: string;
  servingCertFile: string;
  servingKeyFile: string;
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
  tokenAuthFile: string;
  tokens: LocalClusterTokens;
}

/**
 * Names the serving certificate must carry: loopback for the launcher and kubectl, and the in-cluster names so
 * a kubeconfig built from a ServiceAccount token (server = https://kubernetes.default.svc) would also verify.
 */
const SERVING_SANS = [
  'IP:127.0.0.1',
  'IP:10.0.0.1',
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

/**
 * Creates the CA, the apiserver's serving certificate, the ServiceAccount signing key and the token file, or
 * reuses them when `dir` already holds a complete set. Reuse matters for a persistent cluster: a new signing key
 * would invalidate every ServiceAccount token already handed out, and a new admin token every saved kubeconfig.
 *
 * X.509 needs the openssl CLI (node:crypto cannot issue certificates); the keys use P-256 because generating
 * RSA keys through openssl costs noticeably more on a 2-core machine.
 */
export async function ensurePki(dir: string): Promise<LocalClusterPki> {
  const pki: LocalClusterPki = {
    dir,
    caCertFile: path.join(dir, 'ca.crt'),
    caKeyFile: path.join(dir, 'ca.key'),
    caCertPem: '',
    servingCertFile: path.join(dir, 'apiserver.crt'),
    servingKeyFile: path.join(dir, 'apiserver.key'),
    serviceAccountKeyFile: path.join(dir, 'sa.key'),
    serviceAccountPublicKeyFile: path.join(dir, 'sa.pub'),
    tokenAuthFile: path.join(dir, 'tokens.csv'),
    tokens: { admin: '', controllerManager: '', scheduler: '', kwok: '' },
  };
  const tokensJson = path.join(dir, 'tokens.json');
  const complete = [
    pki.caCertFile,
    pki.caKeyFile,
    pki.servingCertFile,
    pki.servingKeyFile,
    pki.serviceAccountKeyFile,
    pki.serviceAccountPublicKeyFile,
    pki.tokenAuthFile,
    tokensJson,
  ].every((f) => existsSync(f));

  if (!complete) {
    // Generate into a scratch directory and rename it into place, so an interrupted first start leaves either
    // nothing or a complete set (a half set would be "complete" for some files and mismatched for others).
    const tmp = `${dir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    const at = (f: string) => path.join(tmp, path.basename(f));
    await generateCertificates(tmp, at(pki.caCertFile), at(pki.caKeyFile), at(pki.servingCertFile), at(pki.servingKeyFile));

    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await writeFile(at(pki.serviceAccountKeyFile), privateKey, { mode: 0o600 });
    await writeFile(at(pki.serviceAccountPublicKeyFile), publicKey, { mode: 0o644 });

    const tokens: LocalClusterTokens = {
      admin: newToken(),
      controllerManager: newToken(),
      scheduler: newToken(),
      kwok: newToken(),
    };
    await writeFile(path.join(tmp, 'tokens.json'), JSON.stringify(tokens, null, 2), { mode: 0o600 });
    // Format: token,user,uid,"group1,group2". The controller manager and scheduler use their well-known user
    // names, which the apiserver's bootstrap RBAC policy already grants exactly what they need; kwok has no such
    // role and acts for every fake kubelet, so it runs as a cluster admin.
    const csv = [
      `${tokens.admin},admin,streamspace-admin,"system:masters"`,
      `${tokens.controllerManager},system:kube-controller-manager,system:kube-controller-manager`,
      `${tokens.scheduler},system:kube-scheduler,system:kube-scheduler`,
      `${tokens.kwok},kwok-controller,kwok-controller,"system:masters"`,
    ].join('\n');
    await writeFile(at(pki.tokenAuthFile), `${csv}\n`, { mode: 0o600 });

    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await rename(tmp, dir);
  }

  pki.caCertPem = await readFile(pki.caCertFile, 'utf8');
  pki.tokens = JSON.parse(await readFile(tokensJson, 'utf8')) as LocalClusterTokens;
  return pki;
}

function newToken(): string {
  return randomBytes(24).toString('hex');
}

async function generateCertificates(
  workDir: string,
  caCert: string,
  caKey: string,
  servingCert: string,
  servingKey: string,
): Promise<void> {
  const openssl = async (args: string[]) => {
    try {
      await execFileAsync('openssl', args, { cwd: workDir });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') {
        throw new Error('the openssl command is required to create the local cluster certificates but was not found on PATH', { cause: err });
      }
      throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
    }
  };
  const extFile = path.join(workDir, 'serving.ext');
  await writeFile(
    extFile,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${SERVING_SANS.join(',')}`,
      '',
    ].join('\n'),
  );
  const days = '3650';
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  await openssl([
    'req', '-x509', '-new', '-key', caKey, '-sha256', '-days', days, '-subj', '/CN=streamspace-local-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out', caCert,
  ]);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', servingKey]);
  const csr = path.join(workDir, 'apiserver.csr');
  await openssl(['req', '-new', '-key', servingKey, '-subj', '/CN=kube-apiserver', '-out', csr]);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-sha256', '-days', days,
    '-extfile', extFile, '-out', servingCert,
  ]);
  await rm(csr, { force: true });
  await rm(extFile, { force: true });
  await rm(path.join(workDir, 'ca.srl'), { force: true });
}
