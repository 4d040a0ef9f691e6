import { InMemoryVisitorStore } from './in-memory-visitor.store';
import { visitorStoreContract } from './visitor-store.contract';

describe('InMemoryVisitorStore', () => {
  visitorStoreContract(() =>
    Promise.resolve({ store: new InMemoryVisitorStore(), dispose: () => Promise.resolve() }),
  );
});
