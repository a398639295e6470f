package io.reflex.devmodels;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Loads device models: a path to a YAML file, or the name of a model shipped in devmodels/models/. */
public final class DeviceModels {
    /** Every model shipped in models/ (the jar carries them under devmodels/): the names a FlashDevice may use. */
    public static final List<String> BUILTIN = List.of("sample", "aws-i3", "null", "virtio-vm", "virtio-vm-dataplane");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    private DeviceModels() {}

    /** {@code ref} is a file path (contains '/' or ends in .yaml/.yml) or a built-in model name. */
    public static DeviceModel load(String ref) {
        if (ref.contains("/") || ref.endsWith(".yaml") || ref.endsWith(".yml")) return load(Path.of(ref));
        try (InputStream in = DeviceModels.class.getResourceAsStream("/devmodels/" + ref + ".yaml")) {
            if (in == null) {
                throw new IllegalArgumentException("unknown device model '" + ref + "': built-in models are " + BUILTIN
                        + "; or give a path to a .yaml model");
            }
            return parse(in.readAllBytes(), ref);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static DeviceModel load(Path file) {
        try {
            return parse(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read device model " + file + ": " + e.getMessage(), e);
        }
    }

    public static DeviceModel parse(byte[] yaml, String source) {
        try {
            return YAML.readValue(yaml, DeviceModel.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid device model " + source + ": " + e.getMessage(), e);
        }
    }

    public static String toYaml(DeviceModel model) {
        try {
            return YAML.writeValueAsString(model);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
