/**
 * For events whose payload is "none" (`agent:logout`, `agent:back`): nothing or `{}` is accepted,
 * any field is refused like every unknown field (PROTOCOL §2).
 */
export class NoPayloadDto {}
