import { IsNumber, Min } from 'class-validator';

export class HeartbeatDto {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  timestamp!: number;
}
