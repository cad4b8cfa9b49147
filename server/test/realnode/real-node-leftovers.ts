import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { NETPOL_TABLE, REAL_NODE_BRIDGE } from '../../src/platform/kube/local-cluster/real-node';

/**
 * What a real node can leave on the machine, as a list of findings (empty = clean): processes (containerd,
 * shims, kubelet, kube-proxy, containers' processes), mounts and network namespaces under its directory, the
 * bridge, iptables chains of kube-proxy, kubelet and the NetworkPolicy queueing, and the agent's nftables table.
 */
export function realNodeLeftovers(rootDir: string, containerCommands: string[] = []): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (!cmdline) continue;
    if (cmdline.includes(rootDir)) found.push(`process ${entry}: ${cmdline.slice(0, 160)}`);
    else if (containerCommands.some((c) => cmdline.startsWith(c))) found.push(`container process ${entry}: ${cmdline.slice(0, 160)}`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${rootDir}/`));
  for (const m of mounts) found.push(`mount ${m}`);
  if (spawnSync('ip', ['link', 'show', REAL_NODE_BRIDGE], { stdio: 'ignore' }).status === 0) found.push(`bridge ${REAL_NODE_BRIDGE}`);
  for (const ipt of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const out = spawnSync(ipt, ['-t', table, '-S'], { encoding: 'utf8' }).stdout ?? '';
      for (const line of out.split('\n').filter((l) => /^-N (KUBE-|STREAMSPACE-)/.test(l))) found.push(`${ipt} -t ${table}: ${line}`);
    }
  }
  const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout ?? '';
  if (tables.split('\n').some((l) => l.trim() === `table inet ${NETPOL_TABLE}`)) found.push(`nftables table inet ${NETPOL_TABLE}`);
  if (existsSync(rootDir)) found.push(`directory ${rootDir}`);
  return found;
}
