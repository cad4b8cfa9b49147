import { expect } from 'chai';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { chained } from './chained';

/** Runs `handler` once; resolves with what reached the outer next (undefined: called without an error), or 'ended'. */
function run(handler: RequestHandler, trace: string[]): Promise<unknown> {
  return new Promise((resolve) => {
    const res = { end: () => resolve('ended') } as unknown as Response;
    const next: NextFunction = (err?: unknown) => {
      trace.push('outer');
      resolve(err);
    };
    void handler({} as Request, res, next);
  });
}

describe('chained (several Express handlers as one layer)', () => {
  const mark =
    (name: string, trace: string[]): RequestHandler =>
    (_req, _res, next) => {
      trace.push(name);
      next();
    };

  it('runs the handlers in order, then goes on after the chain', async () => {
    const trace: string[] = [];
    expect(await run(chained([mark('a', trace), mark('b', trace), mark('c', trace)]), trace)).to.equal(undefined);
    expect(trace).to.deep.equal(['a', 'b', 'c', 'outer']);
  });

  it('stops where a handler answers', async () => {
    const trace: string[] = [];
    const answers: RequestHandler = (_req, res) => {
      trace.push('answers');
      res.end();
    };
    expect(await run(chained([mark('a', trace), answers, mark('c', trace)]), trace)).to.equal('ended');
    expect(trace).to.deep.equal(['a', 'answers']);
  });

  it('leaves with the error of next(err), a throw or a rejected promise, skipping the rest', async () => {
    const boom = new Error('boom');
    const cases: RequestHandler[] = [
      (_req, _res, next) => next(boom),
      () => {
        throw boom;
      },
      async () => {
        await Promise.resolve();
        throw boom;
      },
    ];
    for (const failing of cases) {
      const trace: string[] = [];
      expect(await run(chained([mark('a', trace), failing, mark('c', trace)]), trace)).to.equal(boom);
      expect(trace).to.deep.equal(['a', 'outer']);
    }
  });

  it('goes on after the chain when it is empty', async () => {
    const trace: string[] = [];
    expect(await run(chained([]), trace)).to.equal(undefined);
    expect(trace).to.deep.equal(['outer']);
  });
});
