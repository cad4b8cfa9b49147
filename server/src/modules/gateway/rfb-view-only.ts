/**
 * The view-only filter of an RFB (VNC) client stream, as noVNC sends it through websockify: the gateway passes what
 * a viewer needs to see (the handshake, pixel format, encodings, update requests, fences) and drops what would act
 * on the desktop (keys, pointer, clipboard, desktop resize, xvp power actions). It parses the client->server
 * stream exactly (RFC 6143 and the common extensions noVNC uses) and fails on anything it does not know, rather
 * than guessing where the next message starts. Bytes may arrive split anywhere: incomplete messages wait.
 */

export type RfbFilterResult = { ok: true; forward: Buffer } | { ok: false; reason: string };

type Stage = 'version' | 'security' | 'vncAuth' | 'clientInit' | 'messages';

type Step =
  | { wait: true }
  | { error: string }
  | { length: number; forward: boolean; next?: Stage; skip?: number; rewrite?: (unit: Buffer) => Buffer };

/** Client-to-server message types. */
export const RfbClientMessage = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  EnableContinuousUpdates: 150,
  ClientFence: 248,
  Xvp: 250,
  SetDesktopSize: 251,
  Qemu: 255,
} as const;

const WAIT = { wait: true } as const;
/** The largest unit ever held back: SetEncodings with 65,535 encodings. */
const MAX_PENDING = 4 + 4 * 65_535;

export class RfbViewOnlyFilter {
  private stage: Stage = 'version';
  private pending = Buffer.alloc(0);
  /** Bytes of a dropped message still to come (clipboard text), discarded as they arrive, never held. */
  private skip = 0;
  private failure: string | null = null;
  /** Input messages dropped so far (for the log). */
  dropped = 0;

  /** Feeds the next bytes from the viewer; answers what to send on to the session, or why to close. */
  push(chunk: Buffer): RfbFilterResult {
    if (this.failure) return { ok: false, reason: this.failure };
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let i = 0;
    while (i < buf.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const step = this.step(buf, i);
      if ('wait' in step) break;
      if ('error' in step) {
        this.failure = step.error;
        this.pending = Buffer.alloc(0);
        return { ok: false, reason: step.error };
      }
      const unit = buf.subarray(i, i + step.length);
      if (step.forward) out.push(step.rewrite ? step.rewrite(unit) : unit);
      else this.dropped++;
      if (step.next) this.stage = step.next;
      this.skip = step.skip ?? 0;
      i += step.length;
    }
    this.pending = i < buf.length ? Buffer.from(buf.subarray(i)) : Buffer.alloc(0);
    if (this.pending.length > MAX_PENDING) {
      this.failure = 'an RFB message larger than any the filter knows';
      return { ok: false, reason: this.failure };
    }
    return { ok: true, forward: out.length === 1 ? Buffer.from(out[0]) : Buffer.concat(out) };
  }

  private step(buf: Buffer, i: number): Step {
    const avail = buf.length - i;
    const need = (n: number) => avail >= n;
    switch (this.stage) {
      case 'version': {
        if (!need(12)) return WAIT;
        const version = buf.toString('latin1', i, i + 12);
        // 3.3 lets the server pick the security type without a client byte: the stream cannot be parsed safely.
        if (!/^RFB 003\.00[78]\n$/.test(version)) return { error: `unsupported RFB protocol version ${JSON.stringify(version)}` };
        return { length: 12, forward: true, next: 'security' };
      }
      case 'security': {
        if (!need(1)) return WAIT;
        const type = buf[i];
        if (type === 1) return { length: 1, forward: true, next: 'clientInit' }; // None
        if (type === 2) return { length: 1, forward: true, next: 'vncAuth' }; // VNC authentication: a 16-byte response
        return { error: `unsupported RFB security type ${type}` };
      }
      case 'vncAuth':
        return need(16) ? { length: 16, forward: true, next: 'clientInit' } : WAIT;
      case 'clientInit':
        // ClientInit's shared-flag: a viewer never asks for exclusive access (that would disconnect the others).
        return need(1) ? { length: 1, forward: true, next: 'messages', rewrite: () => Buffer.from([1]) } : WAIT;
      case 'messages':
        return this.message(buf, i, avail);
    }
  }

  private message(buf: Buffer, i: number, avail: number): Step {
    const fixed = (length: number, forward: boolean): Step => (avail >= length ? { length, forward } : WAIT);
    const type = buf[i];
    switch (type) {
      case RfbClientMessage.SetPixelFormat:
        return fixed(20, true);
      case RfbClientMessage.SetEncodings: {
        if (avail < 4) return WAIT;
        return fixed(4 + 4 * buf.readUInt16BE(i + 2), true);
      }
      case RfbClientMessage.FramebufferUpdateRequest:
        return fixed(10, true);
      case RfbClientMessage.KeyEvent:
        return fixed(8, false);
      case RfbClientMessage.PointerEvent:
        return fixed(6, false);
      case RfbClientMessage.ClientCutText: {
        if (avail < 8) return WAIT;
        const length = buf.readUInt32BE(i + 4);
        // Extended clipboard uses a negative (two's complement) length; either way the text is skipped unread.
        const textLength = length > 0x7fffffff ? 0x100000000 - length : length;
        return { length: 8, forward: false, skip: textLength };
      }
      case RfbClientMessage.EnableContinuousUpdates:
        return fixed(10, true);
      case RfbClientMessage.ClientFence: {
        if (avail < 9) return WAIT;
        const payload = buf[i + 8];
        if (payload > 64) return { error: 'ClientFence payload longer than 64 bytes' };
        return fixed(9 + payload, true);
      }
      case RfbClientMessage.Xvp:
        return fixed(4, false);
      case RfbClientMessage.SetDesktopSize: {
        if (avail < 8) return WAIT;
        return fixed(8 + 16 * buf[i + 6], false);
      }
      case RfbClientMessage.Qemu: {
        if (avail < 2) return WAIT;
        if (buf[i + 1] === 0) return fixed(12, false); // QEMU extended key event
        return { error: `unknown QEMU client message subtype ${buf[i + 1]}` };
      }
      default:
        return { error: `unknown RFB client message type ${type}` };
    }
  }
}
