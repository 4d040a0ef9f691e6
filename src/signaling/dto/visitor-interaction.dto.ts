import { IsNumber, IsString, Length, Min } from 'class-validator';

/** `visitor:interaction`: the visitor did something on the page (every click, PROTOCOL §2.4). */
export class VisitorInteractionDto {
  /** What the widget saw (`click`…); counted, never used as a label or stored. */
  @IsString()
  @Length(1, 64)
  interactionType!: string;

  /** When, by the visitor's clock (epoch ms). */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  timestamp!: number;
}
