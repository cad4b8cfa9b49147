import { Field, InputType, Int } from 'type-graphql';
import { ResourcesInput } from '../../templates/dto/template.input';
import { SessionPhaseEnum, SessionStateEnum } from './session.type';

@InputType('CreateSessionInput', { description: 'A new session; omitted settings come from the template and the server configuration.' })
export class CreateSessionInput {
  @Field({ description: 'Name of the template to run.' })
  template!: string;

  @Field(() => ResourcesInput, { nullable: true, description: "Overrides of the template's default resources." })
  resources?: ResourcesInput;

  @Field(() => Boolean, { nullable: true, description: "Mount the user's persistent home volume." })
  persistentHome?: boolean;

  @Field(() => String, { nullable: true, description: 'Hibernate after this long idle, e.g. 30m (pattern ^[0-9]+(s|m|h)$).' })
  idleTimeout?: string;

  @Field(() => String, { nullable: true, description: 'Terminate this long after creation, e.g. 8h.' })
  maxSessionDuration?: string;

  @Field(() => String, { nullable: true, description: 'Fail when not Ready within this long, e.g. 5m.' })
  startupTimeout?: string;

  @Field(() => Int, { nullable: true, description: 'Fewer open connections than this count as idle (default 1; 0: never idle).' })
  minConnections?: number;

  @Field(() => Int, { nullable: true, description: 'Most connections at once; connectSession refuses more (LIMIT_EXCEEDED).' })
  maxConnections?: number;

  @Field(() => Boolean, { nullable: true, description: 'Wake (or replace) the session when someone connects while it is not running (default true).' })
  autoStart?: boolean;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Start a new session even when the caller has a hibernated session of this template. An input naming only the template (a launch) ' +
      "wakes the caller's newest hibernated session of it instead and returns that (audited as session.wake with reason launch); any other " +
      'setting, or newSession: true, starts a new session.',
  })
  newSession?: boolean;
}

@InputType('SessionFilter', { description: 'Conditions on sessions; all given ones must hold.' })
export class SessionFilterInput {
  @Field(() => SessionStateEnum, { nullable: true, description: 'Only this desired state.' })
  state?: SessionStateEnum;

  @Field(() => SessionPhaseEnum, { nullable: true, description: 'Only this phase.' })
  phase?: SessionPhaseEnum;

  @Field(() => String, { nullable: true, description: 'Only sessions of this template.' })
  template?: string;

  @Field(() => String, { nullable: true, description: "Only this user's sessions (admins; users always see only their own)." })
  user?: string;
}
