import { callStoreContract } from './call-store.contract';
import { InMemoryCallStore } from './in-memory-call.store';

describe('InMemoryCallStore', () => {
  callStoreContract(() =>
    Promise.resolve({ store: new InMemoryCallStore(), dispose: () => Promise.resolve(), shared: false }),
  );
});
