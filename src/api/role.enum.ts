import { registerEnumType } from 'type-graphql';
import { Role } from '../auth/viewer';

registerEnumType(Role, { name: 'Role', description: 'What a caller may see: USER only their own data, ADMIN everything.' });

export { Role };
