import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AppTypeEnum, ResourcesType, TemplateType } from '../../templates/dto/template.type';
import { ConnectionType } from '../../../platform/graphql/pagination';

export enum SessionStateEnum {
  running = 'running',
  hibernated = 'hibernated',
  terminated = 'terminated',
}
registerEnumType(SessionStateEnum, {
  name: 'SessionState',
  description: 'What the user wants the session to be.',
  valuesConfig: {
    running: { description: 'One pod running.' },
    hibernated: { description: 'Scaled to zero; the home volume is kept.' },
    terminated: { description: 'Workload removed; the session is kept as history.' },
  },
});

export enum SessionPhaseEnum {
  Pending = 'Pending',
  Running = 'Running',
  Hibernated = 'Hibernated',
  Failed = 'Failed',
  Terminated = 'Terminated',
}
registerEnumType(SessionPhaseEnum, {
  name: 'SessionPhase',
  description: 'What the session is, as observed by the reconciler.',
  valuesConfig: {
    Pending: { description: 'Being created or started.' },
    Running: { description: 'The pod is Ready; the URL works.' },
    Hibernated: { description: 'Scaled to zero, no pod left.' },
    Failed: { description: 'Cannot run; see message.' },
    Terminated: { description: 'Terminated; workload removed.' },
  },
});

@ObjectType('SessionCondition', { description: 'A Kubernetes-style condition of the session.' })
export class SessionConditionType {
  @Field({ description: 'Condition type, e.g. Ready.' })
  type!: string;

  @Field({ description: 'True, False or Unknown.' })
  status!: string;

  @Field({ description: 'Machine-readable reason, e.g. ImagePullFailed.' })
  reason!: string;

  @Field({ description: 'Human-readable explanation.' })
  message!: string;

  @Field(() => Date, { nullable: true, description: 'When the condition last changed.' })
  lastTransitionTime!: Date | null;
}

/** A condition as a Session's status holds it (lastTransitionTime as text). */
export interface StatusCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** Never returned: sessionTypeOf sets both dates of every SessionType (see its constructor). */
const PLACEHOLDER_DATE = new Date(0);

function toConditionType(c: StatusCondition): SessionConditionType {
  return { ...c, lastTransitionTime: c.lastTransitionTime ? new Date(c.lastTransitionTime) : null };
}

@ObjectType('Session', { description: "A user's session of a template (a Session object, mirrored in PostgreSQL)." })
export class SessionType {
  /**
   * Every field set here, in the order sessionTypeOf sets them, so that V8 sizes an instance for all of them at once:
   * after an empty constructor an instance outgrew its layout four times while being filled (each time a copy of its
   * properties: a third of a page of sessions' SessionType garbage, decision 0035). The values are placeholders.
   */
  constructor() {
    this.id = '';
    this.name = '';
    this.namespace = '';
    this.user = '';
    this.templateName = '';
    this.state = SessionStateEnum.running;
    this.phase = SessionPhaseEnum.Pending;
    this.message = null;
    this.url = null;
    this.appType = AppTypeEnum.webapp;
    this.podName = null;
    this.activeConnections = 0;
    this.totalConnections = 0;
    this.lastConnection = null;
    this.lastDisconnect = null;
    this.lastActivity = null;
    this.persistentHome = false;
    this.idleTimeout = null;
    this.maxSessionDuration = null;
    this.resources = null;
    this.createdAt = PLACEHOLDER_DATE;
    this.updatedAt = PLACEHOLDER_DATE;
  }

  @Field(() => ID, { description: "The Session object's uid." })
  id!: string;

  @Field({ description: 'Object name (unique in the namespace; names its Deployment, Service and Ingress).' })
  name!: string;

  @Field({ description: 'Namespace of the Session object.' })
  namespace!: string;

  @Field({ description: 'User name of the owner.' })
  user!: string;

  @Field({ description: 'Name of the template.' })
  templateName!: string;

  // `template` is resolved by a field resolver through a DataLoader.
  template?: TemplateType | null;

  @Field(() => SessionStateEnum, { description: 'Desired state.' })
  state!: SessionStateEnum;

  @Field(() => SessionPhaseEnum, { description: 'Observed phase.' })
  phase!: SessionPhaseEnum;

  @Field(() => String, { nullable: true, description: 'Why the session is in its phase (set when Failed).' })
  message!: string | null;

  @Field(() => String, { nullable: true, description: 'Where the user reaches the session (set when Running).' })
  url!: string | null;

  @Field(() => AppTypeEnum, { description: 'How the session is streamed.' })
  appType!: AppTypeEnum;

  @Field(() => String, { nullable: true, description: 'Name of the pod serving the session.' })
  podName!: string | null;

  @Field(() => Int, { description: 'Clients connected now.' })
  activeConnections!: number;

  @Field(() => Int, { description: 'Connections ever made.' })
  totalConnections!: number;

  @Field(() => Date, { nullable: true, description: 'Last time a client connected.' })
  lastConnection!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Last time a client disconnected.' })
  lastDisconnect!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Last user activity.' })
  lastActivity!: Date | null;

  @Field(() => Boolean, { description: "Whether the user's persistent home volume is mounted." })
  persistentHome!: boolean;

  @Field(() => String, { nullable: true, description: 'Hibernate after this long idle, e.g. 30m.' })
  idleTimeout!: string | null;

  @Field(() => String, { nullable: true, description: 'Terminated this long after creation, e.g. 8h.' })
  maxSessionDuration!: string | null;

  @Field(() => ResourcesType, { nullable: true, description: 'Resource overrides of this session.' })
  resources!: ResourcesType | null;

  /** The conditions as the Session's status holds them (see `conditions`). */
  #statusConditions: readonly StatusCondition[] = [];
  #conditions: SessionConditionType[] | undefined;

  /**
   * Converted when the field is read, once: a page of sessions seldom asks for them, and converting every session's
   * made a page's garbage.
   */
  @Field(() => [SessionConditionType], { description: 'Conditions reported by the reconciler.' })
  get conditions(): SessionConditionType[] {
    return (this.#conditions ??= this.#statusConditions.map(toConditionType));
  }

  /** Sets the conditions from the Session's status (converted when read). */
  setStatusConditions(conditions: readonly StatusCondition[] | undefined): void {
    this.#statusConditions = conditions ?? [];
    this.#conditions = undefined;
  }

  @Field({ description: 'When the session was created.' })
  createdAt!: Date;

  @Field({ description: 'When the mirror row last changed.' })
  updatedAt!: Date;
}

export const SessionConnection = ConnectionType(SessionType, 'Session', 'A page of sessions, newest first.');

export enum SessionChangeTypeEnum {
  UPSERTED = 'UPSERTED',
  DELETED = 'DELETED',
}
registerEnumType(SessionChangeTypeEnum, {
  name: 'SessionChangeType',
  description: 'What happened to a session.',
  valuesConfig: { UPSERTED: { description: 'Created or changed.' }, DELETED: { description: 'Deleted.' } },
});

@ObjectType('SessionChange', { description: "A change in the caller's list of sessions." })
export class SessionChangeType {
  @Field(() => SessionChangeTypeEnum, { description: 'Created/changed or deleted.' })
  type!: SessionChangeTypeEnum;

  @Field(() => SessionType, { description: 'The session as of the change (last state for a deletion).' })
  session!: SessionType;
}
