import { IsObject } from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';
import { MaxJsonBytes } from '../../common/validation/max-json-bytes';
import { PayloadLimit } from '../../common/validation/payload-limit';

/** PROTOCOL §2: `signal` is an object whose JSON is at most 32 KiB (an SDP fits). */
export const MAX_SIGNAL_BYTES = 32 * 1024;

/** The signal's 32 KiB, and room for the rest of the payload. */
@PayloadLimit(MAX_SIGNAL_BYTES + 1024)
export class WebrtcSignalDto {
  @IsProtocolId()
  targetId!: string;

  /** Relayed as is; never logged or recorded. */
  @IsObject()
  @MaxJsonBytes(MAX_SIGNAL_BYTES)
  signal!: Record<string, unknown>;
}
