/**
 * An async queue that feeds a GraphQL subscription from callbacks (log lines, exec output, watch events);
 * return() runs the cleanup, fail() ends the stream with an error.
 */
export function channel<T>(cleanup: () => void | Promise<void>) {
  const values: T[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let ended = false;
  const iterator: AsyncGenerator<T> = {
    async next() {
      for (;;) {
        if (values.length) return { value: values.shift()!, done: false };
        if (failure) {
          const err = failure;
          failure = undefined;
          ended = true;
          await cleanup();
          throw err;
        }
        if (ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return() {
      ended = true;
      values.length = 0;
      wake?.();
      await cleanup();
      return { value: undefined, done: true };
    },
    async throw(err: unknown) {
      ended = true;
      await cleanup();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    iterator,
    push(value: T) {
      if (ended) return;
      values.push(value);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    fail(err: Error) {
      failure = err;
      wake?.();
    },
  };
}

