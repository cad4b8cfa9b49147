import type { Socket } from 'node:net';

export const EMPTY = Buffer.alloc(0);
/** FIN + text opcode: every message here is one whole text frame (RFC 6455 section 5.2). */
const FIN_TEXT = 0x81;

function headerSize(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** Writes an unmasked server frame header for a payload of `length` bytes at `offset`; returns the offset after it. */
function writeHeader(out: Buffer, offset: number, length: number): number {
  out[offset] = FIN_TEXT;
  if (length < 126) {
    out[offset + 1] = length;
    return offset + 2;
  }
  if (length < 65536) {
    out[offset + 1] = 126;
    out.writeUInt16BE(length, offset + 2);
    return offset + 4;
  }
  out[offset + 1] = 127;
  out.writeUInt32BE(Math.floor(length / 2 ** 32), offset + 2);
  out.writeUInt32BE(length >>> 0, offset + 6);
  return offset + 10;
}

/**
 * The text messages a server socket sends in one event-loop turn, framed (RFC 6455: FIN, text, unmasked as a server's
 * are) into one buffer and written with one call when the turn ends. A message is given as a head and a tail whose
 * bytes are joined only in that buffer: a subscription's `next` is its own `{"id":…,"payload":` and a tail of JSON that
 * thousands of subscribers share, so sending it allocates nothing per subscriber.
 *
 * It writes to the TCP socket under a `ws` WebSocket, beside ws's own writes (pings, pongs, close frames), which is
 * sound because those go out at once and whole, and no extension (permessage-deflate) transforms the data frames: the
 * server negotiates none (`usable` says when this holds). Frames still waiting when the WebSocket stops being open are
 * dropped, as ws drops sends after a close; `flush()` before a close of our own sends them first.
 */
export class TextFrameBatch {
  private heads: Buffer[] = [];
  private tails: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;
  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly raw: Socket,
    /** Whether the WebSocket is still open (frames are written only then). */
    private readonly isOpen: () => boolean,
  ) {}

  /** Bytes waiting for the end of the turn. */
  get pending(): number {
    return this.bytes;
  }

  /** Adds one text message (`head` then `tail`, UTF-8); it leaves with the turn's others. */
  add(head: Buffer, tail: Buffer = EMPTY): void {
    const length = head.length + tail.length;
    this.heads.push(head);
    this.tails.push(tail);
    this.bytes += headerSize(length) + length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  /** Writes what waits now, as one buffer; `done` runs once the socket took it (or at once when nothing was written). */
  flush(done?: () => void): void {
    const { heads, tails } = this;
    if (!heads.length || !this.isOpen()) {
      this.clear();
      done?.();
      return;
    }
    const out = Buffer.allocUnsafe(this.bytes);
    let offset = 0;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      const tail = tails[i]!;
      offset = writeHeader(out, offset, head.length + tail.length);
      offset += head.copy(out, offset);
      offset += tail.copy(out, offset);
    }
    this.clear();
    // A failed write destroys the socket ('error', then 'close'), which ends its operations.
    this.raw.write(out, done ? () => done() : undefined);
  }

  private clear(): void {
    this.heads.length = 0;
    this.tails.length = 0;
    this.bytes = 0;
  }

  /** True when frames may be written beside this WebSocket: it negotiated no extension. */
  static usable(socket: { extensions: string }): boolean {
    return socket.extensions === '';
  }
}
