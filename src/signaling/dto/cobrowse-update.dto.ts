import { FreeFormPayload, PayloadLimit } from '../../common/validation/payload-limit';

/** The existing widget's pointer, scroll and selection updates are small objects (PROTOCOL §2.4). */
export const MAX_COBROWSE_UPDATE_BYTES = 4 * 1024;

/**
 * `cobrowse:mouse`, `cobrowse:scroll`, `cobrowse:selection`: whatever small object the widget sends,
 * relayed to the agent of the visitor's call untouched. Their fields are the widget's and the
 * dashboard's business; signalgate checks only that each is a plain object within 4 KiB.
 */
@PayloadLimit(MAX_COBROWSE_UPDATE_BYTES)
@FreeFormPayload()
export class CobrowseUpdateDto {
  [field: string]: unknown;
}
