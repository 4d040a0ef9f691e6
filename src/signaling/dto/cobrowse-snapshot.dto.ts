import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsObject, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { MaxUtf8Bytes } from '../../common/validation/max-utf8-bytes';
import { PayloadLimit } from '../../common/validation/payload-limit';

/** A whole frame may be 1 MiB (the transport's limit); the page's HTML gets all of it but 4 KiB. */
export const MAX_SNAPSHOT_BYTES = 1024 * 1024;
export const MAX_SNAPSHOT_HTML_BYTES = MAX_SNAPSHOT_BYTES - 4 * 1024;

export class CobrowseViewportDto {
  @IsInt()
  @Min(0)
  @Max(100_000)
  width!: number;

  @IsInt()
  @Min(0)
  @Max(100_000)
  height!: number;
}

/**
 * `cobrowse:snapshot` (PROTOCOL §2.4): the visitor's page as the widget serialised it, relayed to the
 * agent of the visitor's call as it came. Never logged, audited or stored.
 */
@PayloadLimit(MAX_SNAPSHOT_BYTES)
export class CobrowseSnapshotDto {
  @IsString()
  @MaxUtf8Bytes(MAX_SNAPSHOT_HTML_BYTES)
  html!: string;

  @IsString()
  @MaxLength(2048)
  url!: string;

  @IsString()
  @MaxLength(1024)
  title!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => CobrowseViewportDto)
  viewport!: CobrowseViewportDto;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  timestamp!: number;
}
