/**
 * How large an event's payload may be (PROTOCOL §2.4). The transport takes frames up to 1 MiB —
 * the existing widget's co-browse snapshots need that much — so each event carries its own, smaller
 * limit, checked before anything else is done with the payload and answered INVALID_PAYLOAD on an
 * open connection. Declared on the payload's DTO class; events without a declaration get the default.
 */
export const DEFAULT_PAYLOAD_LIMIT_BYTES = 16 * 1024;

const PAYLOAD_LIMIT = Symbol('signalgate:payload-limit');
const FREE_FORM = Symbol('signalgate:free-form-payload');

/** The payload of this DTO may be at most `bytes` of JSON (UTF-8). */
export const PayloadLimit =
  (bytes: number): ClassDecorator =>
  (target) =>
    Reflect.defineMetadata(PAYLOAD_LIMIT, bytes, target);

/**
 * A payload relayed as the client sent it, whose fields signalgate does not define (co-browse
 * pointer and scroll updates): any plain object within the DTO's size limit, left untouched.
 */
export const FreeFormPayload = (): ClassDecorator => (target) =>
  Reflect.defineMetadata(FREE_FORM, true, target);

export function payloadLimitOf(dto: object): number {
  return (Reflect.getMetadata(PAYLOAD_LIMIT, dto) as number | undefined) ?? DEFAULT_PAYLOAD_LIMIT_BYTES;
}

export function isFreeFormPayload(dto: object): boolean {
  return Reflect.getMetadata(FREE_FORM, dto) === true;
}

/** Bytes of the value's JSON (what the client sent, give or take whitespace); 0 for nothing. */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? 0 : Buffer.byteLength(json);
}
