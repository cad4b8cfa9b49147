import { expect } from 'chai';
import { RfbViewOnlyFilter } from './rfb-view-only';

const u8 = (...bytes: number[]) => Buffer.from(bytes);
const u16 = (n: number) => u8(n >> 8, n & 0xff);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const s32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

// What noVNC sends, message by message (RFC 6143 layouts).
const version = Buffer.from('RFB 003.008\n', 'latin1');
const securityNone = u8(1);
const clientInitExclusive = u8(0);
const setPixelFormat = Buffer.concat([u8(0, 0, 0, 0), u8(32, 24, 0, 1), u16(255), u16(255), u16(255), u8(16, 8, 0), u8(0, 0, 0)]);
const encodings = [7, 1, 0, -223, -224, -239, -308, -309, -312, -313];
const setEncodings = Buffer.concat([u8(2, 0), u16(encodings.length), ...encodings.map(s32)]);
const updateRequest = Buffer.concat([u8(3, 1), u16(0), u16(0), u16(1024), u16(768)]);
const keyDown = Buffer.concat([u8(4, 1, 0, 0), u32(0x61)]);
const keyUp = Buffer.concat([u8(4, 0, 0, 0), u32(0x61)]);
const pointer = Buffer.concat([u8(5, 1), u16(100), u16(200)]);
const text = Buffer.from('rm -rf / # pasted into the owner\'s terminal', 'utf8');
const cutText = Buffer.concat([u8(6, 0, 0, 0), u32(text.length), text]);
const continuous = Buffer.concat([u8(150, 1), u16(0), u16(0), u16(1024), u16(768)]);
const fence = Buffer.concat([u8(248, 0, 0, 0), u32(0x80000001), u8(3), u8(9, 9, 9)]);
const desktopSize = Buffer.concat([u8(251, 0), u16(800), u16(600), u8(1, 0), u32(0), u16(0), u16(0), u16(800), u16(600), u32(0)]);
const xvpReboot = u8(250, 0, 1, 3);
const qemuKey = Buffer.concat([u8(255, 0), u16(1), u32(0x61), u32(30)]);

/** A whole viewer session: the expected output is the same stream without the input messages. */
const stream = Buffer.concat([version, securityNone, clientInitExclusive, setPixelFormat, setEncodings, updateRequest, keyDown, pointer, cutText, keyUp, continuous, fence, updateRequest, desktopSize, xvpReboot, qemuKey, updateRequest]);
const expected = Buffer.concat([version, securityNone, u8(1), setPixelFormat, setEncodings, updateRequest, continuous, fence, updateRequest, updateRequest]);
const inputMessages = 7;

function run(chunks: Buffer[]): { out: Buffer; filter: RfbViewOnlyFilter } {
  const filter = new RfbViewOnlyFilter();
  const out: Buffer[] = [];
  for (const c of chunks) {
    const r = filter.push(c);
    if (!r.ok) throw new Error(r.reason);
    out.push(r.forward);
  }
  return { out: Buffer.concat(out), filter };
}

describe('RFB view-only filter (the gateway drops a viewer\'s input)', () => {
  it('passes the handshake and what drawing needs, drops keys, pointer, clipboard, resize, xvp and QEMU keys', () => {
    const { out, filter } = run([stream]);
    expect(out.equals(expected)).to.equal(true);
    expect(filter.dropped).to.equal(inputMessages);
  });

  it('gives the same result however the stream is split in two, at every byte', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { out } = run([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(out.equals(expected), `split at ${cut}`).to.equal(true);
    }
  });

  it('gives the same result byte by byte, and in uneven frames of 1 to 7 bytes', () => {
    expect(run([...stream].map((b) => u8(b))).out.equals(expected)).to.equal(true);
    const frames: Buffer[] = [];
    for (let i = 0, n = 1; i < stream.length; i += n, n = (n % 7) + 1) frames.push(stream.subarray(i, i + n));
    expect(run(frames).out.equals(expected)).to.equal(true);
  });

  it('never holds clipboard text: a 1 MB paste split across frames is discarded as it arrives', () => {
    const big = Buffer.alloc(1 << 20, 0x41);
    const head = Buffer.concat([version, securityNone, u8(1)]);
    const filter = new RfbViewOnlyFilter();
    expect(filter.push(head)).to.deep.include({ ok: true });
    expect((filter.push(Buffer.concat([u8(6, 0, 0, 0), u32(big.length).subarray(0, 2)])) as { forward: Buffer }).forward.length).to.equal(0);
    expect((filter.push(Buffer.concat([u32(big.length).subarray(2), big.subarray(0, 1000)])) as { forward: Buffer }).forward.length).to.equal(0);
    const after = filter.push(Buffer.concat([big.subarray(1000), updateRequest]));
    expect(after.ok && after.forward.equals(updateRequest)).to.equal(true);
    // Extended clipboard (negative length) is skipped the same way.
    const ext = filter.push(Buffer.concat([u8(6, 0, 0, 0), s32(-5), u8(1, 2, 3, 4, 5), updateRequest]));
    expect(ext.ok && ext.forward.equals(updateRequest)).to.equal(true);
  });

  it('handles VNC authentication (a 16-byte response) in the handshake', () => {
    const challenge = Buffer.alloc(16, 7);
    const { out } = run([Buffer.concat([version.subarray(0, 5)]), Buffer.concat([version.subarray(5), u8(2), challenge.subarray(0, 9)]), Buffer.concat([challenge.subarray(9), u8(1), keyDown, updateRequest])]);
    expect(out.equals(Buffer.concat([version, u8(2), challenge, u8(1), updateRequest]))).to.equal(true);
  });

  it('refuses what it cannot parse instead of guessing: unknown types, RFB 3.3, other security types', () => {
    const handshake = Buffer.concat([version, securityNone, u8(1)]);
    const unknown = new RfbViewOnlyFilter();
    expect(unknown.push(handshake).ok).to.equal(true);
    const r = unknown.push(Buffer.concat([updateRequest, u8(7, 0, 0, 0)]));
    expect(r).to.deep.equal({ ok: false, reason: 'unknown RFB client message type 7' });
    // Once refused, always refused (the gateway closes both sides).
    expect(unknown.push(updateRequest).ok).to.equal(false);

    expect(new RfbViewOnlyFilter().push(Buffer.from('RFB 003.003\n', 'latin1')).ok).to.equal(false);
    expect(new RfbViewOnlyFilter().push(Buffer.from('GET / HTTP/1.1\r\n', 'latin1')).ok).to.equal(false);
    const tight = new RfbViewOnlyFilter();
    expect(tight.push(Buffer.concat([version, u8(16)])).ok).to.equal(false);
    const qemuAudio = new RfbViewOnlyFilter();
    expect(qemuAudio.push(Buffer.concat([handshake, u8(255, 1, 0, 0)])).ok).to.equal(false);
    const bigFence = new RfbViewOnlyFilter();
    expect(bigFence.push(Buffer.concat([handshake, u8(248, 0, 0, 0), u32(0), u8(65)])).ok).to.equal(false);
  });
});
