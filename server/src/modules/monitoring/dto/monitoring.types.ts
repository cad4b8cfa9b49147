import { Field, Float, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';

export enum MetricRangeEnum {
  HOUR = 'HOUR',
  DAY = 'DAY',
}
registerEnumType(MetricRangeEnum, {
  name: 'MetricRange',
  description: 'How far back a series is read, and how finely.',
  valuesConfig: {
    HOUR: { description: 'The last hour, one point a minute.' },
    DAY: { description: 'The last 24 hours, one point per 15 minutes.' },
  },
});

export enum MetricKindEnum {
  GAUGE = 'gauge',
  RATE = 'rate',
  DURATION = 'duration',
}
registerEnumType(MetricKindEnum, {
  name: 'MetricKind',
  description: 'What the values of a series are.',
  valuesConfig: {
    GAUGE: { description: 'A level at the sampling time (averaged per point).' },
    RATE: { description: 'Events per second over the sampling interval (averaged per point).' },
    DURATION: { description: 'A mean duration in seconds over the sampling interval (averaged per point).' },
  },
});

@ObjectType('MetricPoint', { description: 'One point of a series: the average of the samples in its bucket.' })
export class MetricPointType {
  @Field(() => Date, { description: 'Start of the bucket.' })
  at!: Date;

  @Field(() => Float, { description: 'Average of the samples in the bucket.' })
  value!: number;
}

@ObjectType('MetricSeries', { description: 'A sampled platform series over a range, downsampled to buckets (buckets without samples are left out).' })
export class MetricSeriesType {
  @Field({ description: 'Series name, e.g. `sessions_running`.' })
  name!: string;

  @Field(() => MetricKindEnum, { description: 'What the values are.' })
  kind!: MetricKindEnum;

  @Field({ description: 'Unit of the values (`sessions`, `1/s`, `B/s`, `s`, `ratio`, `bool`, ...).' })
  unit!: string;

  @Field({ description: 'What the series measures.' })
  description!: string;

  @Field(() => [MetricPointType], { description: 'Points, oldest first.' })
  points!: MetricPointType[];
}

export enum AlertComparatorEnum {
  ABOVE = 'above',
  BELOW = 'below',
}
registerEnumType(AlertComparatorEnum, {
  name: 'AlertComparator',
  description: 'When a rule fires.',
  valuesConfig: { ABOVE: { description: 'While the value is greater than the threshold.' }, BELOW: { description: 'While the value is less than the threshold.' } },
});

export enum AlertSeverityEnum {
  WARNING = 'warning',
  CRITICAL = 'critical',
}
registerEnumType(AlertSeverityEnum, {
  name: 'AlertSeverity',
  description: 'How urgent an alert is.',
  valuesConfig: { WARNING: { description: 'Needs attention.' }, CRITICAL: { description: 'The platform or part of it is down.' } },
});

export enum AlertRuleStateEnum {
  OK = 'ok',
  FIRING = 'firing',
}
registerEnumType(AlertRuleStateEnum, {
  name: 'AlertRuleState',
  description: "A rule's verdict at its last evaluation.",
  valuesConfig: { OK: { description: 'Not breached.' }, FIRING: { description: 'Breached: an alert is open.' } },
});

export enum AlertStateEnum {
  FIRING = 'firing',
  RESOLVED = 'resolved',
}
registerEnumType(AlertStateEnum, {
  name: 'AlertState',
  description: 'Whether an alert is open.',
  valuesConfig: { FIRING: { description: 'The rule is breached.' }, RESOLVED: { description: 'The rule is no longer breached (or was switched off).' } },
});

@ObjectType('AlertRule', { description: 'A rule on a sampled series. The shipped rules can be tuned (threshold, severity, on/off, webhook), not deleted.' })
export class AlertRuleType {
  @Field(() => ID, { description: 'Stable key, e.g. `node-not-ready`.' })
  id!: string;

  @Field({ description: 'The series the rule watches (see metricSeries).' })
  series!: string;

  @Field(() => AlertComparatorEnum, { description: 'Fires while the value is above or below the threshold.' })
  comparator!: AlertComparatorEnum;

  @Field(() => Float, { description: 'The threshold.' })
  threshold!: number;

  @Field(() => AlertSeverityEnum, { description: 'Severity of its alerts.' })
  severity!: AlertSeverityEnum;

  @Field({ description: 'False: never fires (an open alert resolves at the next evaluation).' })
  enabled!: boolean;

  @Field({ description: 'What a firing alert means.' })
  description!: string;

  @Field(() => String, { nullable: true, description: "Host of the rule's own webhook (the URL itself may carry a token and is never shown); null: the global webhook, if any." })
  webhookHost!: string | null;

  @Field(() => AlertRuleStateEnum, { description: 'Verdict at the last evaluation.' })
  state!: AlertRuleStateEnum;

  @Field(() => Float, { nullable: true, description: 'The value at the last evaluation (null before the first, or when its source did not answer).' })
  lastValue!: number | null;

  @Field(() => Date, { nullable: true, description: 'When the rule was last evaluated.' })
  lastEvaluatedAt!: Date | null;

  @Field(() => Date, { description: 'When the rule was last changed.' })
  updatedAt!: Date;
}

@ObjectType('Alert', { description: 'One episode of a rule firing: opened when it fires, resolved when it no longer holds.' })
export class AlertType {
  @Field(() => ID, { description: 'Id of the episode.' })
  id!: string;

  @Field({ description: 'The rule that fired.' })
  ruleId!: string;

  @Field(() => AlertStateEnum, { description: 'Open (firing) or resolved.' })
  state!: AlertStateEnum;

  @Field(() => AlertSeverityEnum, { description: "The rule's severity when it fired." })
  severity!: AlertSeverityEnum;

  @Field(() => Float, { description: 'The value that made it fire (the latest while it fires).' })
  value!: number;

  @Field(() => Float, { description: 'The threshold when it fired.' })
  threshold!: number;

  @Field({ description: 'What happened, with the value and the threshold.' })
  message!: string;

  @Field({ description: 'Who evaluated it: `leader`, or the replica that could not reach a dependency (PostgreSQL, API server).' })
  source!: string;

  @Field(() => Date, { description: 'When it fired.' })
  firedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it resolved (null while firing).' })
  resolvedAt!: Date | null;
}

@InputType('UpdateAlertRuleInput', { description: 'Changes to an alert rule; fields left out stay as they are.' })
export class UpdateAlertRuleInput {
  @Field(() => Float, { nullable: true, description: 'New threshold (a finite number).' })
  threshold?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Switch the rule on or off.' })
  enabled?: boolean | null;

  @Field(() => AlertSeverityEnum, { nullable: true, description: 'New severity.' })
  severity?: AlertSeverityEnum | null;

  @Field(() => String, { nullable: true, description: "The rule's own webhook: an http(s) URL, or an empty string to use the global one again." })
  webhookUrl?: string | null;
}
