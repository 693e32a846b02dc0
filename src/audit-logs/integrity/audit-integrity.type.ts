import { Field, Float, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'One seal of the trail: a signed link of the hash chain over the rows it covers (docs/integrity.md).' })
export class AuditSeal {
  @Field(() => Int)
  sequence!: number;

  @Field(() => String, { description: 'Hex SHA-256 of the seal\'s canonical encoding.' })
  hash!: string;

  @Field(() => String, { description: 'The previous seal\'s hash; 64 zeros for the first.' })
  previousHash!: string;

  @Field(() => String, { description: 'It covers the rows written by transactions below this id (and at or above the previous seal\'s).' })
  horizon!: string;

  @Field(() => Int)
  rowCount!: number;

  @Field(() => ID)
  firstId!: string;

  @Field(() => ID)
  lastId!: string;

  @Field(() => Date)
  sealedAt!: Date;

  @Field(() => String, { description: 'The Ed25519 public key that signed it (base64url, 32 bytes): compare it with the one you trust.' })
  publicKey!: string;

  @Field(() => String, { description: 'Ed25519 signature of the 32 bytes of `hash`, base64url.' })
  signature!: string;
}

@ObjectType({ description: 'How far the seal chain has come. Verify the chain itself with `npm run audit:verify`.' })
export class AuditIntegrity {
  @Field(() => AuditSeal, { nullable: true, description: 'The newest seal; null before the first.' })
  headSeal!: AuditSeal | null;

  @Field(() => String, { nullable: true, description: 'The public key that signed the head seal; null before the first.' })
  publicKey!: string | null;

  @Field(() => Int, { description: 'Rows not sealed yet.' })
  unsealedRows!: number;

  @Field(() => Float, { nullable: true, description: 'Seconds since the oldest unsealed row was written; null when every row is sealed.' })
  oldestUnsealedAgeSeconds!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'How far behind the primary the read replica the trail\'s queries read from is (`DATABASE_READ_URL`), in seconds; -1 while it does not answer. Past `DATABASE_READ_MAX_LAG_MS` they read the primary. Null without a replica.',
  })
  readReplicaLagSeconds!: number | null;
}
