package io.reflex.agent.config;

import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.protocol.UdpFraming;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's network engine: kernel TCP (every device on {@code --address}), or DPDK, where one device is served over
 * ReFlex-on-UDP from a DPDK port with an address of its own (the EAL is initialised once per process and a port
 * belongs to one process, so an agent has one DPDK port and serves one device on it, as the original ReFlex serves
 * one device per server; its other devices are served over kernel TCP).
 *
 * @param mode     TCP or DPDK
 * @param nic      the NIC to bind and use: a PCI address, {@code auto} (the one NIC nothing uses), or null (the EAL
 *                 arguments name the port, e.g. a vdev)
 * @param nicClaim IfUnused: the agent binds the NIC to vfio-pci / uio_pci_generic (only while it carries none of the
 *                 node's traffic); Never: it must be bound already
 * @param ealArgs  EAL arguments as given ({@code --dpdk-args}); see {@link #ealArgs(String)}
 * @param address  the port's IPv4 address with prefix, e.g. 10.0.0.9/24 (null in TCP mode)
 * @param mtu      the port's MTU (at least {@link UdpFraming#MIN_MTU}: a 4 KiB block per datagram)
 */
public record NetSettings(Mode mode, String nic, ClaimPolicy nicClaim, List<String> ealArgs, String address, int mtu) {
  public enum Mode { TCP, DPDK }

  public static final String AUTO = "auto";
  public static final NetSettings TCP = new NetSettings(Mode.TCP, null, ClaimPolicy.Never, List.of(), null, 9000);
  private static final Pattern BDF = Pattern.compile("\\p{XDigit}{4}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.[0-7]");
  private static final Pattern IFACE = Pattern.compile("(?:^|,)iface=([^,]+)");

  public NetSettings {
    ealArgs = List.copyOf(ealArgs);
    if (nicClaim == null) nicClaim = ClaimPolicy.Never;
    if (mode == Mode.DPDK) {
      if (address == null || address.isBlank()) {
        throw new IllegalArgumentException("--net dpdk needs --dpdk-address IP/PREFIX: the DPDK port's own IPv4 address "
            + "(e.g. 10.0.0.9/24; the kernel does not own that port, so it has no address the agent could take)");
      }
      ip(address); // checks the form
      if (mtu < UdpFraming.MIN_MTU || mtu > 9600) {
        throw new IllegalArgumentException("--mtu " + mtu + " is out of range: a 4 KiB request travels in one UDP datagram "
            + "and the DPDK engine does not fragment, so the port needs jumbo frames (" + UdpFraming.MIN_MTU + "-9600, "
            + "e.g. 9000)");
      }
      if (nic != null && !nic.equals(AUTO) && !BDF.matcher(nic).matches()) {
        throw new IllegalArgumentException("--dpdk-nic must be a PCI address (0000:3b:00.0) or auto, got '" + nic + "'");
      }
    }
  }

  /**
   * From the command line: {@code nicSpec} is {@code PCI|auto[,claim=Never|IfUnused]} or null; without it and without
   * EAL arguments the NIC is {@code auto}.
   */
  public static NetSettings parse(String net, String nicSpec, String args, String address, int mtu) {
    Mode mode = switch (net == null ? "tcp" : net.trim().toLowerCase(Locale.ROOT)) {
      case "", "tcp" -> Mode.TCP;
      case "dpdk" -> Mode.DPDK;
      default -> throw new IllegalArgumentException("--net must be tcp or dpdk, got '" + net + "'");
    };
    List<String> eal = args == null || args.isBlank() ? List.of() : Arrays.asList(args.trim().split("\\s+"));
    if (mode == Mode.TCP) {
      if (nicSpec != null && !nicSpec.isBlank() || !eal.isEmpty()) {
        throw new IllegalArgumentException("--dpdk-nic and --dpdk-args need --net dpdk");
      }
      return TCP;
    }
    String nic = null;
    ClaimPolicy claim = ClaimPolicy.Never;
    if (nicSpec != null && !nicSpec.isBlank()) {
      String[] parts = nicSpec.trim().split(",");
      nic = parts[0].trim().toLowerCase(Locale.ROOT);
      for (int i = 1; i < parts.length; i++) {
        String[] kv = parts[i].split("=", 2);
        if (kv.length != 2 || !kv[0].trim().equals("claim")) {
          throw new IllegalArgumentException("--dpdk-nic takes PCI|auto[,claim=Never|IfUnused], got '" + nicSpec + "'");
        }
        claim = switch (kv[1].trim().toLowerCase(Locale.ROOT)) {
          case "never" -> ClaimPolicy.Never;
          case "ifunused" -> ClaimPolicy.IfUnused;
          default -> throw new IllegalArgumentException("--dpdk-nic claim must be Never or IfUnused, got '" + kv[1] + "'");
        };
      }
    } else if (eal.isEmpty()) {
      nic = AUTO;
    }
    return new NetSettings(mode, nic, claim, eal, address, mtu);
  }

  public boolean dpdk() {
    return mode == Mode.DPDK;
  }

  /** The EAL runs without hugepages ({@code --no-huge} in the EAL arguments): none are reserved for it. */
  public boolean noHuge() {
    return ealArgs.contains("--no-huge");
  }

  /** The kernel interfaces the EAL arguments' vdevs run on ({@code --vdev net_af_packet0,iface=veth1}): checked as NICs are. */
  public List<String> vdevInterfaces() {
    List<String> found = new ArrayList<>();
    for (int i = 0; i < ealArgs.size(); i++) {
      String a = ealArgs.get(i);
      String v = a.equals("--vdev") && i + 1 < ealArgs.size() ? ealArgs.get(i + 1) : a.startsWith("--vdev=") ? a.substring(7) : null;
      if (v == null) continue;
      Matcher m = IFACE.matcher(v);
      if (m.find()) found.add(m.group(1));
    }
    return found;
  }

  /**
   * The EAL arguments for a port on NIC {@code bdf} (null: the arguments name the port): the given ones, else
   * {@code --in-memory --no-telemetry} (hugepages, no files shared with other DPDK processes), plus {@code -a BDF} so
   * the EAL probes that NIC and no other.
   */
  public List<String> ealArgs(String bdf) {
    List<String> a = new ArrayList<>(ealArgs.isEmpty() ? List.of("--in-memory", "--no-telemetry") : ealArgs);
    if (bdf != null && !a.contains(bdf)) {
      a.add("-a");
      a.add(bdf);
    }
    return a;
  }

  /** The port's IPv4 address as an int (network order, as the DPDK engine takes it). */
  public int ip() {
    return ip(address);
  }

  /** The port's address without the prefix. */
  public InetAddress inetAddress() {
    try {
      return InetAddress.getByName(address.substring(0, address.indexOf('/')));
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int ip(String a) {
    int slash = a.indexOf('/');
    if (slash < 0) throw new IllegalArgumentException("--dpdk-address must be IP/PREFIX, e.g. 10.0.0.9/24, got '" + a + "'");
    int prefix;
    try {
      prefix = Integer.parseInt(a.substring(slash + 1));
    } catch (NumberFormatException e) {
      prefix = -1;
    }
    if (prefix < 1 || prefix > 32) throw new IllegalArgumentException("--dpdk-address prefix must be 1-32, got '" + a + "'");
    String host = a.substring(0, slash);
    if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      throw new IllegalArgumentException("--dpdk-address must be an IPv4 address with prefix, got '" + a + "'");
    }
    try {
      InetAddress ia = InetAddress.getByName(host);
      if (!(ia instanceof Inet4Address)) throw new UnknownHostException();
      byte[] b = ia.getAddress();
      return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--dpdk-address must be an IPv4 address with prefix, got '" + a + "'");
    }
  }
}
