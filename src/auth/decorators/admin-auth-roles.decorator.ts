import { Reflector } from '@nestjs/core';
import type { Role } from '../directory/directory.types';

export const AdminAuthRoles = Reflector.createDecorator<Role[]>();
