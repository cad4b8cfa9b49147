import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. The kernel picks it (port 0), which avoids the ports other
 * programs use by convention; the small window between closing our listener and the component binding it is
 * the usual trade-off of every envtest-style launcher.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 right now (used to keep a persistent cluster's apiserver port). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
