import { Ctx, Query, Resolver } from 'type-graphql';
import { viewerOf, type Context } from '../api/context';
import { ViewerType } from './viewer.type';

@Resolver(() => ViewerType)
export class ViewerResolver {
  @Query(() => ViewerType, { description: 'Who the bearer token says you are.' })
  me(@Ctx() context: Context): ViewerType {
    const { id, role } = viewerOf(context);
    return ViewerType.of(id, role);
  }
}
