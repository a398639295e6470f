package io.reflex.dataplane.storage;

class UringOnLoopDeviceContractTest extends StorageEngineContractTest {
    @Override
    protected String engineName() {
        return "uring";
    }

    @Override
    protected Backing backing() {
        return Backing.LOOP;
    }

    @Override
    protected StorageEngine engineOn(NativeDevice device, boolean syncWrites) {
        return new UringEngine(device, syncWrites);
    }
}
