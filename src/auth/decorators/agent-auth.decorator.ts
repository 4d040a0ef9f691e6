import { applyDecorators, UseGuards } from '@nestjs/common';
import { DeclareAccess } from '../../common/access/access-kind';
import { WsAgentAuthGuard } from '../guards/ws-agent-auth.guard';
import { AgentAuthOptions, AgentAuthOptionsValue } from './agent-auth-options.decorator';

/**
 * The handler runs only for a socket logged in (`agent:login`) as an active agent whose token has
 * not expired and whose session was not revoked. Otherwise the client gets `error` with
 * AUTH_REQUIRED / AUTH_EXPIRED / AUTH_REVOKED / AUTH_AGENT_DISABLED, or FORBIDDEN for `roles`.
 */
export const AgentAuth = (options: AgentAuthOptionsValue = {}): MethodDecorator =>
  applyDecorators(AgentAuthOptions(options), DeclareAccess('agent'), UseGuards(WsAgentAuthGuard));
