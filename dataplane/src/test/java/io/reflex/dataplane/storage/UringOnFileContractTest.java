package io.reflex.dataplane.storage;

class UringOnFileContractTest extends StorageEngineContractTest {
    @Override
    protected String engineName() {
        return "uring";
    }

    @Override
    protected Backing backing() {
        return Backing.FILE;
    }

    @Override
    protected StorageEngine engineOn(NativeDevice device, boolean syncWrites) {
        return new UringEngine(device, syncWrites);
    }
}
