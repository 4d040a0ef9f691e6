import { IsProtocolId } from '../../common/validation/ids';

/** `call:end`. */
export class CallIdDto {
  @IsProtocolId()
  callId!: string;
}
