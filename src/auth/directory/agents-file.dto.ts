import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsNumberOptions,
  IsObject,
  IsString,
  IsUrl,
  Length,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';
import {
  ROLES,
  Role,
  WIDGET_DEVICES,
  WIDGET_POSITIONS,
  WIDGET_SIZES,
  WIDGET_THEMES,
  WidgetSettingsOverrides,
} from './directory.types';

/*
 * The AGENTS_FILE format of PROTOCOL §5. The loader validates with `whitelist` and
 * `forbidNonWhitelisted`, so a field not declared here is refused rather than silently ignored.
 */

/** Integers are stored in `integer` columns, which are 32-bit in Postgres. */
const INT32_MAX = 2_147_483_647;

/**
 * Skips validation only when the field is absent. Unlike `@IsOptional()`, an explicit `null` is
 * still validated (and refused), so `"status": null` is an error rather than a silent default.
 */
const Absent = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);

/** Absent or `null` are both accepted (the field's value is then `null`). */
const Nullable = (): PropertyDecorator =>
  ValidateIf((_object, value) => value !== undefined && value !== null);

const INTEGER = { message: 'must be an integer' };

/**
 * A media URL shown to visitors by the widget: absolute http(s) only, so that a `javascript:` or
 * `data:` URL in the file can never reach a visitor's page.
 */
const IsMediaUrl = (): PropertyDecorator =>
  applyDecorators(
    IsString(),
    Length(1, 2048),
    IsUrl(
      { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
      { message: 'must be an absolute http(s) URL' },
    ),
  );

const SECONDS: [IsNumberOptions, ValidationOptions] = [
  { allowNaN: false, allowInfinity: false },
  { message: 'must be a number (seconds)' },
];

/**
 * The widget's settings, exactly the keys the existing widget reads (PROTOCOL §2.3), each optional:
 * a pool's override an organisation's, which override the built-in defaults. Any other key —
 * camelCase spellings included — is refused, since the widget would silently ignore it.
 */
export class WidgetSettingsDto implements WidgetSettingsOverrides {
  @Absent() @IsIn(WIDGET_SIZES) size?: WidgetSettingsOverrides['size'];
  @Absent() @IsIn(WIDGET_POSITIONS) position?: WidgetSettingsOverrides['position'];
  @Absent() @IsIn(WIDGET_DEVICES) devices?: WidgetSettingsOverrides['devices'];
  @Absent() @IsNumber(...SECONDS) @Min(0) @Max(3600) trigger_delay?: number;
  @Nullable() @IsNumber(...SECONDS) @Min(0) @Max(86_400) auto_hide_delay?: number | null;
  @Absent() @IsBoolean() show_minimize_button?: boolean;
  @Absent() @IsIn(WIDGET_THEMES) theme?: WidgetSettingsOverrides['theme'];
  @Absent() @IsBoolean() cobrowse_enabled?: boolean;
}

/** Settings objects: a plain object whose keys are validated one by one. */
const WidgetSettings = (): PropertyDecorator =>
  applyDecorators(
    Absent(),
    IsObject(),
    ValidateNested(),
    Type(() => WidgetSettingsDto),
  );

export class RoutingRuleDto {
  @IsString() @Length(1, 512) pathPattern!: string;
  @Absent() @IsString() @Length(1, 255) domainPattern?: string;
  @IsInt(INTEGER) @Min(-INT32_MAX) @Max(INT32_MAX) priority!: number;
}

export class PoolDto {
  @IsProtocolId() id!: string;
  @IsString() @Length(1, 200) name!: string;
  @Absent() @IsBoolean() isDefault?: boolean;
  @Absent()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => RoutingRuleDto)
  rules?: RoutingRuleDto[];
  @WidgetSettings() widgetSettings?: WidgetSettingsDto;
}

export class OrganizationDto {
  @IsProtocolId() id!: string;
  @IsString() @Length(1, 200) name!: string;
  @Absent() @IsIn(['active', 'paused']) status?: 'active' | 'paused';
  @Absent() @IsInt(INTEGER) @Min(1) @Max(300) rnaTimeoutSeconds?: number;
  @Absent() @IsInt(INTEGER) @Min(1) @Max(1440) maxCallDurationMinutes?: number;
  @WidgetSettings() widgetSettings?: WidgetSettingsDto;
  @Absent() @IsArray() @ValidateNested({ each: true }) @Type(() => PoolDto) pools?: PoolDto[];
}

export class PoolMembershipDto {
  @IsProtocolId() poolId!: string;
  @IsInt(INTEGER) @Min(1) @Max(INT32_MAX) priorityRank!: number;
}

export class UserDto {
  @IsProtocolId() userId!: string;
  @Nullable() @IsProtocolId() agentId?: string | null;
  @Nullable() @IsProtocolId() orgId?: string | null;
  @IsIn(ROLES) role!: Role;
  @IsString() @Length(1, 200) displayName!: string;
  @Nullable() @IsMediaUrl() avatarUrl?: string | null;
  @Nullable() @IsMediaUrl() waveVideoUrl?: string | null;
  @Nullable() @IsMediaUrl() introVideoUrl?: string | null;
  @Nullable() @IsMediaUrl() connectVideoUrl?: string | null;
  @Nullable() @IsMediaUrl() loopVideoUrl?: string | null;
  @Absent() @IsBoolean() active?: boolean;
  @Absent()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PoolMembershipDto)
  pools?: PoolMembershipDto[];
}

export class AgentsFileDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => OrganizationDto) organizations!: OrganizationDto[];
  @IsArray() @ValidateNested({ each: true }) @Type(() => UserDto) users!: UserDto[];
}
