import { Reflector } from '@nestjs/core';
import type { Role } from '../directory/directory.types';

export interface AgentAuthOptionsValue {
  /** Minimum role(s); the agent must hold at least one of them. */
  roles?: Role[];
}

export const AgentAuthOptions = Reflector.createDecorator<AgentAuthOptionsValue>();
