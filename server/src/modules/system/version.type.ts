import { Field, ObjectType } from 'type-graphql';

@ObjectType('BuildInfo', { description: 'What is running: the release, the source commit and when it was built.' })
export class BuildInfoType {
  @Field({ description: 'Semantic version of this StreamSpace release.' })
  version!: string;

  @Field({ description: 'Git commit the server was built from ("unknown" when not recorded).' })
  commit!: string;

  @Field({ description: 'When the server was built (ISO 8601), or "unknown".' })
  buildDate!: string;
}
