import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  IsUrl,
  Length,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsProtocolId } from '../../common/validation/ids';
import { ROLES, Role } from './directory.types';

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
}

export class OrganizationDto {
  @IsProtocolId() id!: string;
  @IsString() @Length(1, 200) name!: string;
  @Absent() @IsIn(['active', 'paused']) status?: 'active' | 'paused';
  @Absent() @IsInt(INTEGER) @Min(1) @Max(300) rnaTimeoutSeconds?: number;
  @Absent() @IsInt(INTEGER) @Min(1) @Max(1440) maxCallDurationMinutes?: number;
  @Absent() @IsObject() widgetSettings?: Record<string, unknown>;
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
