package io.reflex.dataplane.dpdk;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.cli.DataplaneMain;
import io.reflex.dataplane.cli.Sizes;
import io.reflex.dataplane.cli.TableWatcher;
import io.reflex.dataplane.metrics.AdminServer;
import io.reflex.dataplane.tenant.AdmissionPlan;
import io.reflex.devmodels.Budget;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code reflex-dataplane --net dpdk}, also runnable alone: serve a device over the ReFlex protocol on UDP through a
 * DPDK port, with the admin endpoint ({@code --admin}: /metrics, /tenants, /reload) and the SLO table reloaded when its
 * file changes, as on kernel TCP. Prints the counters on exit (SIGTERM/SIGINT), one {@code name=value} per counter.
 */
@Command(name = "reflex-dataplane-dpdk", mixinStandardHelpOptions = true,
        description = "Serve a device over ReFlex-on-UDP through a DPDK port (PROTOCOL.md, UDP transport).")
public final class DpdkMain implements Callable<Integer> {
    @Mixin DpdkOptions dpdk = new DpdkOptions();

    @Option(names = "--device") Path device;
    @Option(names = "--engine", defaultValue = "auto") String engine;
    @Option(names = "--size", defaultValue = "1Gi") String size;
    @Option(names = "--listen", defaultValue = "0.0.0.0:1234", description = "IP:PORT; the UDP port of the default tenant") String listen;
    @Option(names = "--slo-table") Path sloTable;
    @Option(names = "--model", defaultValue = "null") String model;
    @Option(names = "--threads", defaultValue = "1") int threads;
    @Option(names = "--cpus", split = ",") List<Integer> cpus;
    @Option(names = "--poll", defaultValue = "busy") String poll;
    @Option(names = "--no-qos") boolean noQos;
    @Option(names = "--sync-writes", defaultValue = "true", arity = "1") boolean syncWrites;
    @Option(names = "--queue-depth", defaultValue = "256") int queueDepth;
    @Option(names = "--admin", defaultValue = "none", description = "ADDR:PORT of /metrics, /health, /tenants, /reload, or none"
            + " (default: ${DEFAULT-VALUE})") String admin;

    @Override
    public Integer call() throws InterruptedException {
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("--listen must be IP:PORT, got '" + listen + "'");
        String host = listen.substring(0, colon);
        int port = Integer.parseInt(listen.substring(colon + 1));
        if (device == null && !"memory".equals(engine)) throw new IllegalArgumentException("--device is required (or --engine memory)");
        DpdkServer.Config c = dpdk.toConfig(host, port, engine, device, Sizes.parse(size), syncWrites, queueDepth, sloTable, model,
                threads, cpus, poll, !noQos);
        return serve(c, "none".equals(admin) ? null : DataplaneMain.address(admin));
    }

    /** Runs the engine until the process is told to stop; {@code admin}: where the admin endpoint listens, or null. */
    public static int serve(DpdkServer.Config c, InetSocketAddress admin) throws InterruptedException {
        DpdkServer server = DpdkServer.start(c);
        Dataplane dp = server.dataplane();
        AdminServer adminServer;
        try {
            adminServer = admin == null ? null : new AdminServer(dp, admin);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        EthDev.Info info = server.deviceInfo();
        System.out.printf("reflex-dataplane: dpdk port %d (%s) %s %s/udp, mtu %d, link %s, %d loop(s), %s engine%n", server.port(),
                info.driver(), Frames.macString(server.mac()), Frames.ipString(c.ip()), c.mtu(), EthDev.linkUp(server.port()) ? "up" : "down",
                c.threads(), dp.engine().name());
        for (Dataplane.Served s : dp.tenants()) {
            var t = s.spec();
            System.out.printf("  tenant %-12s udp %d  %s  LBA [%d, %d)  %s tokens/s%n", t.name(), t.port(), t.tenantClass(),
                    t.lbaBase(), t.lbaEnd(), Budget.human(s.tokensPerSec()));
        }
        for (AdmissionPlan.Rejected r : dp.lastPlan().rejected()) System.out.printf("  REJECTED %s: %s%n", r.spec().name(), r.reason());
        if (adminServer != null) System.out.printf("  admin: http://%s:%d/metrics /health/ready /tenants /reload%n",
                adminServer.address().getAddress().getHostAddress(), adminServer.address().getPort());
        TableWatcher watcher = TableWatcher.reloading(dp);
        System.out.println("reflex-dataplane: serving");
        System.out.flush();
        // "stats" on stdin prints the counters (tests and benchmarks read them from a running server)
        Thread.ofPlatform().daemon().name("reflex-dpdk-stdin").start(() -> {
            try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.trim().equals("stats")) {
                        System.out.println(server.summary());
                        System.out.println("end-stats");
                        System.out.flush();
                    }
                }
            } catch (java.io.IOException ignored) {
                // stdin closed: nothing more to answer
            }
        });
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (watcher != null) watcher.close();
            if (adminServer != null) adminServer.close();
            server.close();
            System.out.println(server.summary());
            System.out.flush();
            done.countDown();
        }));
        done.await();
        return 0;
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new DpdkMain());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("reflex-dataplane: " + (e instanceof IllegalArgumentException || e instanceof IllegalStateException
                    ? e.getMessage() : e.toString()));
            return 2;
        });
        System.exit(cl.execute(args));
    }
}
