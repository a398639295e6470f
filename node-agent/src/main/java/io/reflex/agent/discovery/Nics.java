package io.reflex.agent.discovery;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The node's network interfaces as far as a DPDK port is concerned: which kernel interfaces (netdevs) sit on a PCI
 * function ({@code /sys/class/net/IF/device}, through a virtio device when there is one), and whether an interface
 * carries the node's own traffic, which makes its NIC someone else's exactly as a mount makes a disk someone else's:
 * <ul>
 *   <li>it has a global IP address (IPv4, or IPv6 of global scope), in particular the agent's own {@code --address};</li>
 *   <li>a route uses it ({@code /proc/net/route}, {@code /proc/net/ipv6_route}): the default route or any other
 *       (link-local and multicast IPv6 routes, which every interface that is up has, do not count);</li>
 *   <li>it is a member of a bond or bridge ({@code master}) or has upper devices (VLANs, macvlans: {@code upper_*}).</li>
 * </ul>
 * Reads only. An interface whose state cannot be read is reported in use ({@link InUse.Kind#UNREADABLE}), never free.
 */
public final class Nics {
  private static final Pattern BDF = Pattern.compile("\\p{XDigit}{4,}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.[0-7]");

  /** An interface's addresses: the kernel's (this process's network namespace: the node's, with hostNetwork), or a test's. */
  @FunctionalInterface
  public interface Addresses {
    List<InetAddress> of(String ifname);

    /** What the kernel says ({@link NetworkInterface}); none for an interface that does not exist. */
    Addresses REAL = ifname -> {
      try {
        NetworkInterface n = NetworkInterface.getByName(ifname);
        return n == null ? List.of() : Collections.list(n.getInetAddresses());
      } catch (SocketException e) {
        throw new HostStateException("cannot list the addresses of " + ifname + ": " + e.getMessage(), e);
      }
    };

    /** No IPv4 knowledge (a fake tree without a stand-in); IPv6 addresses still come from if_inet6. */
    Addresses NONE = ifname -> List.of();
  }

  private final HostRoots roots;
  private final Addresses addresses;
  private final Set<InetAddress> agentAddresses;

  /**
   * @param addresses      how interfaces' addresses are read
   * @param agentAddresses the agent's own addresses ({@code --address}): named as such when an interface has one
   */
  public Nics(HostRoots roots, Addresses addresses, Set<InetAddress> agentAddresses) {
    this.roots = roots;
    this.addresses = addresses;
    this.agentAddresses = Set.copyOf(agentAddresses);
  }

  /** The addresses of the real /sys are the kernel's; a fake tree's come from {@code if_inet6} only. */
  public static Addresses defaultAddresses(HostRoots roots) {
    return roots.sysfs().toAbsolutePath().normalize().equals(Path.of("/sys")) ? Addresses.REAL : Addresses.NONE;
  }

  /** Kernel interfaces that sit on PCI function {@code bdf} (none when it is bound to a user-space driver). */
  public List<String> netdevsOf(String bdf) {
    List<String> found = new ArrayList<>();
    for (String ifname : SysFiles.names(roots.sys("class/net"))) {
      if (bdf.equals(pciAddressOf(ifname))) found.add(ifname);
    }
    return found;
  }

  /** The PCI function under an interface, or null (virtual interfaces: lo, veth, bridges...). */
  public String pciAddressOf(String ifname) {
    Path device = roots.sys("class/net/" + ifname + "/device");
    if (!Files.exists(device)) return null;
    try {
      for (Path p = device.toRealPath(); p != null && p.getFileName() != null; p = p.getParent()) {
        if (BDF.matcher(p.getFileName().toString()).matches()) return p.getFileName().toString();
      }
      return null;
    } catch (IOException e) {
      throw new HostStateException("cannot resolve " + device + ": " + e.getMessage(), e);
    }
  }

  /** Whether a kernel interface of that name exists. */
  public boolean exists(String ifname) {
    return Files.exists(roots.sys("class/net/" + ifname));
  }

  /** Every reason the interface carries the node's traffic (empty: it carries none). */
  public List<InUse> inUse(String ifname) {
    List<InUse> reasons = new ArrayList<>();
    try {
      Set<String> global = new LinkedHashSet<>();
      for (InetAddress a : addresses.of(ifname)) {
        if (global(a)) global.add(describe(a));
      }
      global.addAll(ipv6Global(ifname));
      for (String a : global) {
        reasons.add(new InUse(InUse.Kind.NETWORK, ifname + " has address " + a
            + (agentAddresses.stream().anyMatch(x -> describe(x).equals(a)) ? " (the agent's --address: the node's own traffic)" : "")));
      }
      reasons.addAll(routes(ifname));
      SysFiles.linkName(roots.sys("class/net/" + ifname + "/master"))
          .ifPresent(m -> reasons.add(new InUse(InUse.Kind.NETWORK, ifname + " is a member of " + m)));
      for (Path p : SysFiles.list(roots.sys("class/net/" + ifname), "upper_*")) {
        reasons.add(new InUse(InUse.Kind.NETWORK, ifname + " carries " + p.getFileName().toString().substring(6)));
      }
    } catch (RuntimeException e) {
      reasons.add(new InUse(InUse.Kind.UNREADABLE, "cannot tell whether " + ifname + " carries the node's traffic: "
          + e.getMessage()));
    }
    return reasons;
  }

  private static boolean global(InetAddress a) {
    return !a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isMulticastAddress() && !a.isAnyLocalAddress();
  }

  private static String describe(InetAddress a) {
    String s = a.getHostAddress();
    int pct = s.indexOf('%');
    return pct < 0 ? s : s.substring(0, pct);
  }

  /** Global-scope IPv6 addresses of the interface from /proc/net/if_inet6 (address index prefix scope flags name). */
  private List<String> ipv6Global(String ifname) {
    List<String> found = new ArrayList<>();
    for (String[] f : table(roots.proc("net/if_inet6"), false)) {
      if (f.length >= 6 && f[5].equals(ifname) && f[3].equals("00")) found.add(ipv6(f[0]));
    }
    return found;
  }

  /** Routes through the interface: IPv4 from /proc/net/route, IPv6 from /proc/net/ipv6_route. */
  private List<InUse> routes(String ifname) {
    List<InUse> found = new ArrayList<>();
    for (String[] f : table(roots.proc("net/route"), true)) { // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
      if (f.length < 8 || !f[0].equals(ifname)) continue;
      int dest = Integer.reverseBytes((int) Long.parseLong(f[1], 16));
      int mask = Integer.reverseBytes((int) Long.parseLong(f[7], 16));
      found.add(new InUse(InUse.Kind.NETWORK, dest == 0 && mask == 0
          ? ifname + " carries the node's default route (" + roots.proc("net/route") + ")"
          : ifname + " is routed to " + ipv4(dest) + "/" + Integer.bitCount(mask) + " (" + roots.proc("net/route") + ")"));
    }
    for (String[] f : table(roots.proc("net/ipv6_route"), false)) { // dest plen src splen nexthop metric ref use flags iface
      if (f.length < 10 || !f[9].equals(ifname)) continue;
      String dest = f[0];
      int plen = Integer.parseInt(f[1], 16);
      if (dest.startsWith("fe8") || dest.startsWith("fe9") || dest.startsWith("fea") || dest.startsWith("feb")
          || dest.startsWith("ff")) {
        continue; // link-local and multicast: every interface that is up has them
      }
      found.add(new InUse(InUse.Kind.NETWORK, plen == 0
          ? ifname + " carries the node's IPv6 default route (" + roots.proc("net/ipv6_route") + ")"
          : ifname + " is routed to " + ipv6(dest) + "/" + plen + " (" + roots.proc("net/ipv6_route") + ")"));
    }
    return found;
  }

  private static List<String[]> table(Path file, boolean header) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new HostStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
    List<String[]> rows = new ArrayList<>();
    for (int i = header ? 1 : 0; i < lines.size(); i++) {
      String l = lines.get(i).strip();
      if (!l.isEmpty()) rows.add(l.split("\\s+"));
    }
    return rows;
  }

  private static String ipv4(int a) {
    return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }

  private static String ipv6(String hex32) {
    try {
      return describe(Inet6Address.getByAddress(HexFormat.of().parseHex(hex32)));
    } catch (UnknownHostException | IllegalArgumentException e) {
      return hex32;
    }
  }
}
