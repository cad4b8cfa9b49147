import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum StartupPhaseEnum {
  WAITING = 'WAITING',
  SCHEDULED = 'SCHEDULED',
  PULLING_IMAGE = 'PULLING_IMAGE',
  STARTING = 'STARTING',
  READY = 'READY',
  FAILED = 'FAILED',
}
registerEnumType(StartupPhaseEnum, {
  name: 'StartupPhase',
  description: "A step of a session's start-up.",
  valuesConfig: {
    WAITING: { description: 'Waiting for a pod to be created or scheduled.' },
    SCHEDULED: { description: 'The pod has a node.' },
    PULLING_IMAGE: { description: 'The image is being pulled.' },
    STARTING: { description: 'Containers are starting; waiting for the readiness probe.' },
    READY: { description: 'The pod is Ready; the URL works.' },
    FAILED: { description: 'It cannot start (unschedulable, image pull failure, crash loop, template problem).' },
  },
});

@ObjectType('SessionProgress', { description: "One step of a session's start-up, with the latest message from the pod or its events." })
export class SessionProgressType {
  @Field(() => ID, { description: 'Id of the session.' })
  sessionId!: string;

  @Field(() => StartupPhaseEnum, { description: 'The step reached.' })
  phase!: StartupPhaseEnum;

  @Field({ description: 'What is happening (from pod status and Kubernetes events).' })
  message!: string;

  @Field(() => String, { nullable: true, description: 'Name of the pod, once there is one.' })
  podName!: string | null;

  @Field({ description: 'When this step was observed.' })
  at!: Date;
}
