package io.reflex.dataplane.storage;

class MemoryEngineContractTest extends StorageEngineContractTest {
    @Override
    protected String engineName() {
        return "memory";
    }

    @Override
    protected Backing backing() {
        return Backing.MEMORY;
    }

    @Override
    protected StorageEngine engineOn(NativeDevice device, boolean syncWrites) {
        return null;
    }
}
