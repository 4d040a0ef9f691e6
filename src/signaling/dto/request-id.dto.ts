import { IsProtocolId } from '../../common/validation/ids';

/** `call:accept` and `call:cancel`. */
export class RequestIdDto {
  @IsProtocolId()
  requestId!: string;
}
