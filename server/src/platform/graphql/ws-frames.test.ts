import { expect } from 'chai';
import net from 'node:net';
import type { Writable } from 'node:stream';
import WebSocket from 'ws';
import { TextFrameBatch } from './ws-frames';

/** ws's own frame parser (exported by ws, not declared by its types). */
const Receiver = (WebSocket as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => Writable }).Receiver;

/** A TCP connection on loopback: the server's end for the batch, the client's end read by ws's own frame parser. */
async function connection() {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const raw = await accepted;
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const messages: { text: string; binary: boolean }[] = [];
  receiver.on('message', (data: Buffer, binary: boolean) => messages.push({ text: data.toString(), binary }));
  client.on('data', (chunk) => receiver.write(chunk));
  let writes = 0;
  const write = raw.write.bind(raw) as (...args: unknown[]) => boolean;
  raw.write = ((...args: unknown[]) => {
    writes++;
    return write(...args);
  }) as typeof raw.write;
  return {
    raw,
    messages,
    writes: () => writes,
    close: async () => {
      client.destroy();
      raw.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('TextFrameBatch', () => {
  it('frames every length (7-bit, 16-bit and 64-bit) as text that ws parses, the turn’s messages in one write', async () => {
    const c = await connection();
    try {
      const batch = new TextFrameBatch(c.raw, () => true);
      const texts = [0, 1, 125, 126, 127, 65535, 65536, 70000].map((n) => 'x'.repeat(n));
      texts.push('{"id":"ü","type":"next","payload":{"data":"€ 𝄞 日本"}}');
      for (const text of texts) {
        // Split anywhere between head and tail (in the middle of a multi-byte character too): only the joined bytes count.
        const bytes = Buffer.from(text);
        const cut = Math.floor(bytes.length / 3);
        batch.add(bytes.subarray(0, cut), bytes.subarray(cut));
      }
      batch.add(Buffer.from('head only'));
      expect(batch.pending).to.be.greaterThan(0);
      await until(() => c.messages.length === texts.length + 1);
      expect(c.messages.map((m) => m.text)).to.deep.equal([...texts, 'head only']);
      expect(c.messages.every((m) => !m.binary), 'text frames, as graphql-ws clients expect').to.equal(true);
      expect(c.writes(), 'one write for the turn').to.equal(1);
      expect(batch.pending).to.equal(0);
    } finally {
      await c.close();
    }
  });

  it('flushes at once when asked (before a close), calling back once the socket took it; drops frames once closed', async () => {
    const c = await connection();
    try {
      let open = true;
      const batch = new TextFrameBatch(c.raw, () => open);
      batch.add(Buffer.from('first'));
      let flushed = false;
      batch.flush(() => (flushed = true));
      await until(() => flushed && c.messages.length === 1);
      expect(c.messages.map((m) => m.text)).to.deep.equal(['first']);
      open = false;
      batch.add(Buffer.from('after the close'));
      let dropped = false;
      batch.flush(() => (dropped = true));
      expect(dropped, 'nothing to write: called back at once').to.equal(true);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(c.messages.map((m) => m.text)).to.deep.equal(['first']);
      expect(c.writes()).to.equal(1);
    } finally {
      await c.close();
    }
  });

  it('is used only for a WebSocket without extensions', () => {
    expect(TextFrameBatch.usable({ extensions: '' })).to.equal(true);
    expect(TextFrameBatch.usable({ extensions: 'permessage-deflate' })).to.equal(false);
  });
});
