import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Role } from '../../platform/graphql/authorization';
import type { GraphQLContext } from '../../platform/graphql/context';
import { AlertRuleType, AlertType, MetricRangeEnum, MetricSeriesType, UpdateAlertRuleInput } from './dto/monitoring.types';
import { ALERT_CHANGED, type MonitoringService } from './monitoring.service';

export interface MonitoringResolverDeps {
  monitoring: MonitoringService;
}

@Resolver()
export class MonitoringResolver {
  constructor(private readonly deps: MonitoringResolverDeps) {}

  @Authorized(Role.ADMIN)
  @Query(() => [MetricSeriesType], {
    description: 'Sampled platform series over the last hour or day, downsampled (admin only). BAD_USER_INPUT for an unknown name (details.reason UNKNOWN_SERIES) or more than 30 names.',
  })
  metricSeries(
    @Arg('names', () => [String], { description: 'Series names, e.g. `sessions_running`, `connections_active`, `heartbeats_per_second`.' }) names: string[],
    @Arg('range', () => MetricRangeEnum, { defaultValue: MetricRangeEnum.HOUR, description: 'How far back.' }) range: MetricRangeEnum,
  ): Promise<MetricSeriesType[]> {
    return this.deps.monitoring.series(names, range);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [AlertRuleType], { description: 'The alert rules with their current verdict, ordered by id (admin only).' })
  alertRules(): Promise<AlertRuleType[]> {
    return this.deps.monitoring.rules();
  }

  @Authorized(Role.ADMIN)
  @Query(() => [AlertType], { description: 'Alerts, newest first (admin only). BAD_USER_INPUT for a limit outside 1-500.' })
  alerts(
    @Arg('firingOnly', () => Boolean, { defaultValue: false, description: 'Only the alerts that are firing.' }) firingOnly: boolean,
    @Arg('limit', () => Int, { defaultValue: 50, description: 'Most alerts to return (1-500).' }) limit: number,
  ): Promise<AlertType[]> {
    return this.deps.monitoring.alerts({ firingOnly, limit });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => AlertRuleType, {
    description: 'Tunes an alert rule: threshold, on/off, severity, its own webhook (admin only); applies from the next sample. NOT_FOUND for an unknown rule; BAD_USER_INPUT for a bad threshold or URL. Audited (the webhook by host only).',
  })
  updateAlertRule(
    @Arg('id', () => ID, { description: 'Id of the rule, e.g. `node-not-ready`.' }) id: string,
    @Arg('input', () => UpdateAlertRuleInput, { description: 'The changes.' }) input: UpdateAlertRuleInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AlertRuleType> {
    return this.deps.monitoring.updateRule(id, input, ctx);
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => AlertType, {
    description: 'Each alert as it fires or resolves, from every replica (admin only).',
    topics: ALERT_CHANGED,
  })
  alertChanged(@Root() alert: AlertType): AlertType {
    return alert;
  }
}
