import { expect } from "chai";
import { WorkQueue } from "./work-queue";

/** A handler whose calls stay open until the test releases them, recording what ran and how many at once. */
function gatedHandler() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  let running = 0;
  let maxRunning = 0;
  const handle = (key: string) =>
    new Promise<void>((resolve) => {
      started.push(key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      gates.set(key, () => {
        running--;
        gates.delete(key);
        resolve();
      });
    });
  const release = (key: string) => {
    const gate = gates.get(key);
    if (!gate)
      throw new Error(
        `${key} is not running (running: ${[...gates.keys()].join(", ")})`,
      );
    gate();
  };
  return {
    started,
    handle,
    release,
    get maxRunning() {
      return maxRunning;
    },
    get open() {
      return [...gates.keys()];
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("WorkQueue", () => {
  it("handles one key at a time by default, in the order added, deduplicating waiting keys", async () => {
    const h = gatedHandler();
    const q = new WorkQueue({
      signal: new AbortController().signal,
      handle: h.handle,
      onError: () => {},
    });
    q.add("a");
    q.add("b");
    q.add("b");
    await tick();
    expect(h.open).to.deep.equal(["a"]);
    h.release("a");
    await tick();
    expect(h.open).to.deep.equal(["b"]);
    h.release("b");
    await q.idle();
    expect(h.started).to.deep.equal(["a", "b"]);
    expect(h.maxRunning).to.equal(1);
  });

  it("handles up to `workers` keys at once, never the same key twice at once", async () => {
    const h = gatedHandler();
    const q = new WorkQueue({
      signal: new AbortController().signal,
      handle: h.handle,
      onError: () => {},
      workers: 3,
    });
    for (const k of ["a", "b", "c", "d"]) q.add(k);
    await tick();
    expect(h.open).to.deep.equal(["a", "b", "c"]);
    // A key added again while it is handled waits for that handling, even with a worker free.
    q.add("a");
    h.release("b");
    await tick();
    expect(h.open).to.deep.equal(["a", "c", "d"]);
    h.release("a");
    await tick();
    expect(h.open).to.deep.equal(["c", "d", "a"]);
    for (const k of ["c", "d", "a"]) h.release(k);
    await q.idle();
    expect(h.started).to.deep.equal(["a", "b", "c", "d", "a"]);
    expect(h.maxRunning).to.equal(3);
  });

  it("requeues a failed key with backoff and reports it", async () => {
    const errors: { key: string; retryInMs: number }[] = [];
    let calls = 0;
    const q = new WorkQueue({
      signal: new AbortController().signal,
      handle: async () => {
        if (++calls === 1) throw new Error("boom");
      },
      onError: (key, _err, retryInMs) => errors.push({ key, retryInMs }),
      workers: 2,
    });
    q.add("x");
    await q.idle();
    expect(errors).to.deep.equal([{ key: "x", retryInMs: 200 }]);
    // The retry comes by itself and succeeds.
    while (calls < 2) await new Promise((r) => setTimeout(r, 20));
    await q.idle();
    expect(errors).to.have.length(1);
  });

  it("stop() drops what waits and waits for what runs", async () => {
    const h = gatedHandler();
    const ac = new AbortController();
    const q = new WorkQueue({
      signal: ac.signal,
      handle: h.handle,
      onError: () => {},
      workers: 2,
    });
    for (const k of ["a", "b", "c"]) q.add(k);
    await tick();
    let stopped = false;
    const stopping = q.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).to.equal(false);
    h.release("a");
    h.release("b");
    await stopping;
    expect(h.started).to.deep.equal(["a", "b"]);
  });
});
