import { IsProtocolId } from '../../common/validation/ids';

export class CallRequestDto {
  /** The agent the visitor sees; routing chooses another when it cannot take the call. */
  @IsProtocolId()
  agentId!: string;
}
