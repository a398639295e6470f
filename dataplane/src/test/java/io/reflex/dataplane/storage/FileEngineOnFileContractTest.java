package io.reflex.dataplane.storage;

class FileEngineOnFileContractTest extends StorageEngineContractTest {
    @Override
    protected String engineName() {
        return "file";
    }

    @Override
    protected Backing backing() {
        return Backing.FILE;
    }

    @Override
    protected StorageEngine engineOn(NativeDevice device, boolean syncWrites) {
        return new FileEngine(device);
    }
}
