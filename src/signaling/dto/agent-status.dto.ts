import { IsIn } from 'class-validator';
import type { SelectableStatus } from '../protocol';

export class AgentStatusDto {
  /** `in_call`/`in_simulation` are server-owned and refused here. */
  @IsIn(['idle', 'away', 'offline'])
  status!: SelectableStatus;
}
