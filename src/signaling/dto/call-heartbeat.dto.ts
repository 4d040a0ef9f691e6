import { IsProtocolId } from '../../common/validation/ids';
import { IsReconnectToken } from './reconnect-token.decorator';

export class CallHeartbeatDto {
  @IsProtocolId()
  callId!: string;

  @IsReconnectToken()
  reconnectToken!: string;
}
