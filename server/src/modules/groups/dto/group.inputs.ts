import { Field, InputType } from 'type-graphql';

@InputType({ description: 'A new group.' })
export class CreateGroupInput {
  @Field({ description: 'Unique name: 1-100 letters, digits, spaces, dots, dashes, underscores, slashes, colons or @ (stored lower case).' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What the group is for (at most 500 characters).' })
  description?: string | null;
}

@InputType({ description: 'Changes to a group; omitted fields stay as they are.' })
export class UpdateGroupInput {
  @Field(() => String, { nullable: true, description: 'New name (renames the group; its entries on access lists follow it).' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'New description (null or empty clears it).' })
  description?: string | null;
}
