import { Field, ID, Int, ObjectType } from 'type-graphql';
import { SessionType } from '../../sessions/dto/session.type';

@ObjectType('ClientConnection', { description: 'One client (browser tab) attached to a session; mirrored as a Connection object in the cluster.' })
export class ClientConnectionType {
  @Field(() => ID, { description: 'Connection id (send it with every heartbeat).' })
  id!: string;

  @Field(() => ID, { description: 'Id of the session.' })
  sessionId!: string;

  @Field(() => String, { nullable: true, description: 'User name of whoever connected.' })
  user!: string | null;

  @Field(() => String, { nullable: true, description: 'Client IP address as the server saw it.' })
  clientIp!: string | null;

  @Field(() => String, { nullable: true, description: 'User-Agent header of the client.' })
  userAgent!: string | null;

  @Field({ description: 'When the client connected.' })
  connectedAt!: Date;

  @Field({ description: 'Last heartbeat (or the connect time).' })
  lastActivity!: Date;

  @Field(() => Date, { nullable: true, description: 'When the connection ended (null while open).' })
  disconnectedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why it ended: client, beacon, reaper, session-hibernated, session-ended.' })
  disconnectReason!: string | null;
}

@ObjectType('ConnectSessionResult', { description: 'A new connection to a Ready session.' })
export class ConnectSessionResultType {
  @Field(() => ID, { description: 'Id of the new connection: send heartbeat(connectionId) every 30 s and disconnectSession(connectionId) when done.' })
  connectionId!: string;

  @Field({ description: "Where the client reaches the session (the session's pod is Ready)." })
  url!: string;

  @Field(() => SessionType, { description: 'The session with its updated counts.' })
  session!: SessionType;

  @Field({
    description:
      'Secret that ends only this connection through POST /api/connections/{connectionId}/disconnect (body: the token), for navigator.sendBeacon on tab close, which cannot send an Authorization header.',
  })
  beaconToken!: string;

  @Field(() => Int, { description: 'How often to send heartbeats, in seconds.' })
  heartbeatIntervalSeconds!: number;
}

@ObjectType('SessionIdle', { description: 'Why a session is kept running, and when it will hibernate.' })
export class SessionIdleType {
  @Field(() => Int, { description: 'Open connections now.' })
  activeConnections!: number;

  @Field(() => Date, { nullable: true, description: 'Latest heartbeat or connection event of the session.' })
  lastActivity!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the session hibernates if nobody connects (null: not scheduled).' })
  hibernatesAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The idle timeout in force, e.g. 30m.' })
  idleTimeout!: string | null;

  @Field({ description: 'Where the idle timeout comes from: session, template or server.' })
  idleTimeoutSource!: string;

  @Field({ description: 'Human-readable explanation of why the session is (or is not) going to hibernate.' })
  reason!: string;
}

@ObjectType('ConnectionCountChange', { description: "A change in a session's number of connections." })
export class ConnectionCountChangeType {
  @Field(() => ID, { description: 'Id of the session.' })
  sessionId!: string;

  @Field(() => Int, { description: 'Open connections now.' })
  activeConnections!: number;

  @Field(() => Int, { description: 'Connections ever made to the session.' })
  totalConnections!: number;

  @Field(() => Date, { nullable: true, description: 'Last time a client connected.' })
  lastConnection!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Last time a client disconnected.' })
  lastDisconnect!: Date | null;
}
