package io.reflex.dataplane.cli;

import io.reflex.dataplane.Dataplane;
import io.reflex.dataplane.DataplaneConfig;
import io.reflex.dataplane.metrics.AdminServer;
import io.reflex.dataplane.net.ConnectionLimits;
import io.reflex.dataplane.net.Layout;
import io.reflex.dataplane.net.NetMode;
import io.reflex.dataplane.net.PollMode;
import io.reflex.dataplane.tenant.AdmissionPlan;
import io.reflex.dataplane.tenant.SloTableException;
import io.reflex.devmodels.Budget;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code reflex-dataplane}: serve a device to ReFlex clients. */
@Command(name = "reflex-dataplane", mixinStandardHelpOptions = true, version = "reflex-dataplane 0.1.0",
        description = {"Serve a flash device (or file) over the ReFlex protocol with per-tenant SLOs.",
                "Without --slo-table the whole device is one best-effort tenant on --listen's port."})
public final class DataplaneMain implements Callable<Integer> {
    @Option(names = "--device", description = "File or block device to serve (O_DIRECT). Not needed for --engine memory with --size.")
    Path device;

    @Option(names = "--engine", defaultValue = "auto", description = "auto | uring | file | memory (default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--size", defaultValue = "1Gi", description = "Capacity of the memory engine, e.g. 4Gi (default: ${DEFAULT-VALUE})")
    String size;

    @Option(names = "--listen", defaultValue = "0.0.0.0:1234", description = "ADDR:PORT; the address every tenant binds, the port of the default tenant (default: ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--slo-table", description = "SLO table (YAML/JSON); reloaded when the file changes or on POST /reload")
    Path sloTable;

    @Option(names = "--model", defaultValue = "null", description = "Device model: sample, aws-i3, null (no limits) or a .yaml path (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--threads", defaultValue = "auto", description = "Dataplane threads, one event loop each, or auto:"
            + " one per CPU when the CPUs are set aside for us, one per four shared CPUs (default: ${DEFAULT-VALUE})")
    String threads;

    @Option(names = "--cpus", paramLabel = "LIST", description = "CPUs the dataplane may use, in cpuset list form (e.g. 2-3,6;"
            + " what the node agent passes); loop i is pinned to the i-th, and the JIT compiler threads are"
            + " kept on its remaining CPUs, if any. Default: this process's affinity")
    String cpus;

    @Option(names = "--pin", defaultValue = "auto", description = "auto | yes | no: pin loop threads to CPUs (auto: on dedicated"
            + " CPUs or --cpus, else one loop on the device's interrupt CPU) (default: ${DEFAULT-VALUE})")
    String pin;

    @Option(names = "--poll", defaultValue = "auto", description = "auto | busy | yield | adaptive | block: how idle loops wait"
            + " (auto: busy on dedicated CPUs; yield in a VM with CPU to spare; else adaptive) (default: ${DEFAULT-VALUE})")
    String poll;

    @Option(names = "--net", defaultValue = "auto", description = "auto | uring | epoll | dpdk: the network path (auto: io_uring"
            + " where the kernel offers what it needs, else epoll; dpdk: ReFlex over UDP from a DPDK port, see --dpdk-args)"
            + " (default: ${DEFAULT-VALUE})")
    String net;

    /** --address, --mtu, --dpdk-*: used with --net dpdk only. */
    @CommandLine.Mixin
    io.reflex.dataplane.dpdk.DpdkOptions dpdk = new io.reflex.dataplane.dpdk.DpdkOptions();

    @Option(names = "--no-qos", description = "Disable the QoS scheduler (no token limits; for comparison)")
    boolean noQos;

    @Option(names = "--sync-writes", defaultValue = "true", arity = "1", description = "Acknowledge writes only when durable (RWF_DSYNC) (default: ${DEFAULT-VALUE})")
    boolean syncWrites;

    @Option(names = "--queue-depth", defaultValue = "256", description = "Device queue depth per thread (default: ${DEFAULT-VALUE})")
    int queueDepth;

    @Option(names = "--submit-batch", defaultValue = "auto",
            description = "While the device is busy, submit every N requests; the first to an idle device goes at once (auto: "
                    + io.reflex.dataplane.net.DataplaneLoop.DEFAULT_SUBMIT_BATCH + ") (default: ${DEFAULT-VALUE})")
    String submitBatch;

    @Option(names = "--admin", defaultValue = "127.0.0.1:9400", description = "ADDR:PORT of /metrics, /health, /tenants, /reload; 'none' to disable (default: ${DEFAULT-VALUE})")
    String admin;

    @CommandLine.Mixin
    ConnectionOptions connections = new ConnectionOptions();

    @Option(names = "--nbd", description = "ADDR:PORT of an NBD front-end: every tenant is an export (name = tenant, or tenant:TOKEN), e.g. 127.0.0.1:10809")
    String nbd;

    @Override
    public Integer call() throws Exception {
        if (device == null && !"memory".equals(engine)) throw new CommandLine.ParameterException(new CommandLine(this), "--device is required (or use --engine memory)");
        Layout layout = layout();
        if ("dpdk".equalsIgnoreCase(net)) return serveDpdk(layout);
        NetMode netMode;
        try {
            netMode = NetMode.parse(net);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--net: " + e.getMessage());
        }
        DataplaneConfig config = new DataplaneConfig(device, engine, Sizes.parse(size), address(listen), sloTable, model, layout.threads(),
                layout.poll(), !noQos, syncWrites, queueDepth, "none".equals(admin) ? null : address(admin), nbd == null ? null : address(nbd),
                layout.pins(), layout.submitBatch(), connectionLimits(), netMode);
        Dataplane dp = Dataplane.start(config);
        AdminServer adminServer = config.admin() == null ? null : new AdminServer(dp, config.admin());
        printSummary(dp, adminServer);
        System.out.println("  layout: " + layout.describe());
        if (cpus != null) System.out.println("  " + io.reflex.client.cpu.Housekeeping.apply(layout.pins()));
        System.out.println("  network: " + dp.netLoops()[0].netPath() + (netMode == NetMode.AUTO && dp.netLoops()[0].netPath().equals("epoll")
                ? " (io_uring networking unavailable: " + io.reflex.dataplane.net.NetMode.uringUnavailableReason() + ")" : ""));
        System.out.flush();
        TableWatcher watcher = TableWatcher.reloading(dp);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (watcher != null) watcher.close();
            if (adminServer != null) adminServer.close();
            dp.close();
            done.countDown();
        }));
        done.await();
        return 0;
    }

    /**
     * --net dpdk: the DPDK engine serves the tenants over UDP (io.reflex.dataplane.dpdk; PROTOCOL.md, "UDP transport"), with
     * the same admin endpoint (metrics, /reload) and SLO-table watching as kernel TCP.
     */
    private int serveDpdk(Layout layout) throws InterruptedException {
        if (nbd != null) throw new CommandLine.ParameterException(new CommandLine(this), "--nbd needs kernel TCP networking, not --net dpdk");
        InetSocketAddress l = address(listen);
        return io.reflex.dataplane.dpdk.DpdkMain.serve(dpdk.toConfig(l.getAddress().getHostAddress(), l.getPort(), engine, device,
                Sizes.parse(size), syncWrites, queueDepth, sloTable, model, layout.threads(), layout.pins(), layout.poll().name(), !noQos),
                "none".equals(admin) ? null : address(admin));
    }

    /** Threads, pinning, polling and batching: what the flags fix, the rest chosen for this machine (Layout). */
    private Layout layout() {
        CommandLine cl = new CommandLine(this);
        try {
            int t = Layout.parseThreads(threads);
            int batch = "auto".equals(submitBatch) ? 0 : Integer.parseInt(submitBatch.trim());
            if (!"auto".equals(submitBatch) && batch < 1) throw new CommandLine.ParameterException(cl, "--submit-batch must be at least 1, got " + batch);
            PollMode pollMode = Layout.parsePoll(poll);
            Layout.Pin pinMode = Layout.Pin.valueOf(pin.toUpperCase(java.util.Locale.ROOT));
            var request = new Layout.Request(cpus == null ? null : Layout.parseCpus(cpus), t, pinMode, pollMode, batch, device);
            return Layout.choose(request, Layout.Facts.probe(device, request.cpus()));
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(cl, "--submit-batch takes a number or auto: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage().startsWith("No enum") ? "--pin is auto | yes | no" : e.getMessage());
        }
    }

    private static void printSummary(Dataplane dp, AdminServer admin) {
        var c = dp.config();
        System.out.printf("reflex-dataplane: %s engine on %s (%d MiB), model %s, %d thread(s)%s, poll %s, QoS %s, sync writes %s%n",
                dp.engine().name(), c.device() == null ? "memory" : c.device(), dp.engine().capacityBytes() >> 20, dp.model().name(),
                c.threads(), c.cpus().isEmpty() ? "" : " pinned to CPUs " + c.cpus(), c.pollMode().name().toLowerCase(), c.scheduler() ? "on" : "off", c.syncWrites());
        for (Dataplane.Served s : dp.tenants()) {
            var t = s.spec();
            System.out.printf("  tenant %-12s %s:%d  %s%s%s  LBA [%d, %d)  %s tokens/s%s%n", t.name(), c.listen().getAddress().getHostAddress(),
                    t.port(), t.tenantClass(), t.tenantClass().name().equals("LC") ? " " + t.iops() + " IOPS p95 " + t.p95Micros() + "µs " + t.readPercent() + "% read" : "",
                    t.token() != null ? " (token)" : "", t.lbaBase(), t.lbaEnd(), Budget.human(s.tokensPerSec()), s.note().isEmpty() ? "" : " — " + s.note());
        }
        if (dp.lastPlan() != null) {
            for (AdmissionPlan.Rejected r : dp.lastPlan().rejected()) System.out.printf("  REJECTED %s: %s%n", r.spec().name(), r.reason());
        }
        var l = c.connectionLimits();
        System.out.printf("  connections: idle timeout %s, request timeout %s, TCP keepalive %s, at most %d MiB of buffers each; %s%n",
                off(l.idleTimeout()), off(l.requestTimeout()), off(l.keepAlive()), l.maxConnectionBytes() >> 20, l.describeAdmission());
        if (dp.nbdAddress() != null) System.out.printf("  nbd: nbd://%s:%d/<tenant>  (tenant:TOKEN for tenants with a token)%n",
                dp.nbdAddress().getAddress().getHostAddress(), dp.nbdAddress().getPort());
        if (admin != null) System.out.printf("  admin: http://%s:%d/metrics /health/ready /tenants /reload%n",
                admin.address().getAddress().getHostAddress(), admin.address().getPort());
        System.out.flush();
    }

    private static String off(Duration d) {
        return d.isZero() ? "off" : d.toNanos() % 1_000_000_000L == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private ConnectionLimits connectionLimits() {
        try {
            return connections.limits();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
        }
    }

    /** ADDR:PORT as a socket address. */
    public static InetSocketAddress address(String hostPort) {
        int i = hostPort.lastIndexOf(':');
        if (i <= 0) throw new IllegalArgumentException("expected ADDR:PORT, got '" + hostPort + "'");
        return new InetSocketAddress(hostPort.substring(0, i), Integer.parseInt(hostPort.substring(i + 1)));
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new DataplaneMain());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("reflex-dataplane: " + (e instanceof SloTableException || e instanceof IllegalArgumentException
                    || e instanceof java.io.UncheckedIOException ? e.getMessage() : e.toString()));
            return 2;
        });
        System.exit(cl.execute(args));
    }
}
