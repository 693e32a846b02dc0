import { Field, ObjectType } from 'type-graphql';
import { textNodeType } from '../api/global-id';
import { Node } from '../api/node';
import { Role } from '../api/role.enum';

/** The viewer's global id: `Viewer` and the user id, so it never meets a record's id in a client cache. */
export const VIEWER_NODE = textNodeType('Viewer');

@ObjectType('Viewer', { description: 'The authenticated caller.', implements: Node })
export class ViewerType implements Node {
  @Field(() => String, { description: 'The token subject (`sub`): the user id `ownerId` and `userId` fields hold.' })
  userId!: string;

  @Field(() => Role)
  role!: Role;

  get globalId(): string {
    return VIEWER_NODE.globalId(this.userId);
  }

  static of(userId: string, role: Role): ViewerType {
    return Object.assign(new ViewerType(), { userId, role });
  }
}
