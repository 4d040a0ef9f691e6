import { InMemoryPresenceStore } from './in-memory-presence.store';
import { presenceStoreContract } from './presence-store.contract';

describe('InMemoryPresenceStore', () => {
  presenceStoreContract(() =>
    Promise.resolve({ store: new InMemoryPresenceStore(), dispose: () => Promise.resolve() }),
  );
});
