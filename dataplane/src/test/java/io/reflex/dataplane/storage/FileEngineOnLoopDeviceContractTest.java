package io.reflex.dataplane.storage;

class FileEngineOnLoopDeviceContractTest extends StorageEngineContractTest {
    @Override
    protected String engineName() {
        return "file";
    }

    @Override
    protected Backing backing() {
        return Backing.LOOP;
    }

    @Override
    protected StorageEngine engineOn(NativeDevice device, boolean syncWrites) {
        return new FileEngine(device);
    }
}
