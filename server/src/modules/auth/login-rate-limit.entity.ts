import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Failed sign-in counters shared by every replica (rate-limiter-flexible's PostgreSQL store; its table layout).
 * Keys are `<prefix>:<ip or username>`; `expire` is the end of the window in epoch milliseconds.
 */
@Entity('login_rate_limits')
export class LoginRateLimitEntity {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  key!: string;

  @Column({ type: 'integer', default: 0 })
  points!: number;

  @Column({ type: 'bigint', nullable: true })
  expire!: string | null;
}
