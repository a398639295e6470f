package io.reflex.agent.apiserver;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a task on a fresh thread that has joined a named network namespace (setns, which on Linux moves only the
 * calling thread): sockets it opens live in that namespace and are then usable from any thread. So a test JVM acts as
 * a client inside the namespace it created, with no second JVM. (A copy of the dataplane tests' NetNs.)
 */
final class NetNs {
    private static final Linker L = Linker.nativeLinker();
    private static final MethodHandle OPEN = L.downcallHandle(L.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SETNS = L.downcallHandle(L.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = L.downcallHandle(L.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int CLONE_NEWNET = 0x40000000;

    private NetNs() {}

    static <T> T call(String namespace, Callable<T> task) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("netns-" + namespace).start(() -> {
            try {
                enter(namespace);
                result.set(task.call());
            } catch (Exception e) {
                failure.set(e);
            } catch (Throwable e) {
                failure.set(new RuntimeException(e));
            }
        });
        t.join();
        if (failure.get() != null) throw failure.get();
        return result.get();
    }

    private static void enter(String namespace) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(a.allocateFrom("/run/netns/" + namespace), 0);
            if (fd < 0) throw new IllegalStateException("cannot open /run/netns/" + namespace);
            int rc = (int) SETNS.invokeExact(fd, CLONE_NEWNET);
            int ignored = (int) CLOSE.invokeExact(fd);
            if (rc != 0) throw new IllegalStateException("setns(" + namespace + ") failed");
        }
    }
}
