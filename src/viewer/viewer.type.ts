import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../api/role.enum';

@ObjectType('Viewer', { description: 'The authenticated caller.' })
export class ViewerType {
  @Field(() => ID, { description: 'The token subject (`sub`).' })
  id!: string;

  @Field(() => Role)
  role!: Role;
}
