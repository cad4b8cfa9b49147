import { Arg, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import { badInput } from '../../platform/graphql/errors';
import type { BuildInfo } from './build-info';
import { BuildInfoType } from './version.type';

export interface SystemResolverDeps {
  buildInfo: BuildInfo;
}

/** Facts about the running server; public, because clients show them before sign-in. */
@Resolver()
export class SystemResolver {
  constructor(private readonly deps: SystemResolverDeps) {}

  @Query(() => BuildInfoType, { description: 'The version, commit and build date of the running server.' })
  version(): BuildInfoType {
    return this.deps.buildInfo;
  }

  @Subscription(() => Date, {
    description:
      'The server clock, emitted every `intervalSeconds` (1-60) for at most `count` ticks (1-600). ' +
      'A cheap way for clients and monitors to check that the subscription transport works end to end.',
    subscribe: ({ args }) => ticks(args.intervalSeconds as number, args.count as number),
  })
  serverTime(
    @Root() now: Date,
    @Arg('intervalSeconds', () => Int, { defaultValue: 1, description: 'Seconds between ticks (1-60).' }) _intervalSeconds: number,
    @Arg('count', () => Int, { defaultValue: 10, description: 'How many ticks to send before completing (1-600).' }) _count: number,
  ): Date {
    return now;
  }
}

/** Validates before returning the stream, so bad arguments fail the subscription with a coded error. */
function ticks(intervalSeconds: number, count: number): AsyncGenerator<Date> {
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 60) throw badInput('intervalSeconds must be between 1 and 60');
  if (!Number.isInteger(count) || count < 1 || count > 600) throw badInput('count must be between 1 and 600');
  return tickStream(intervalSeconds, count);
}

async function* tickStream(intervalSeconds: number, count: number): AsyncGenerator<Date> {
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, intervalSeconds * 1000));
    yield new Date();
  }
}
