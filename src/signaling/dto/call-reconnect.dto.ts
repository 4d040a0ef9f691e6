import { IsIn } from 'class-validator';
import type { CallRole } from '../calls/call.types';
import { IsReconnectToken } from './reconnect-token.decorator';

export class CallReconnectDto {
  @IsReconnectToken()
  reconnectToken!: string;

  @IsIn(['agent', 'visitor'])
  role!: CallRole;
}
