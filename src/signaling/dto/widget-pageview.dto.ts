import { IsProtocolId } from '../../common/validation/ids';

/** `widget:pageview`: the widget showed itself with this agent (PROTOCOL §2.4). */
export class WidgetPageviewDto {
  @IsProtocolId()
  agentId!: string;
}
