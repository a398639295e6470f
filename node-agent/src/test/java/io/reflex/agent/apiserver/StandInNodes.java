package io.reflex.agent.apiserver;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Addresses for several stand-in nodes on one machine (DESIGN §7a): EndpointSlices refuse loopback, so each node
 * gets a veth pair whose far end sits in a network namespace this test creates; the agent listens on the near end's
 * private address (10.213.N.1), which only this machine routes. Removed on close.
 */
final class StandInNodes implements AutoCloseable {
  private final List<String> links = new ArrayList<>();
  private final List<String> namespaces = new ArrayList<>();
  private final String tag = Long.toString(ProcessHandle.current().pid() % 10000);

  /** Whether this machine lets the test create namespaces and veth pairs (root, iproute2). */
  static boolean available() {
    try {
      return run("ip", "netns", "list") == 0 && "0".equals(new String(new ProcessBuilder("id", "-u").start()
          .getInputStream().readAllBytes()).trim());
    } catch (IOException e) {
      return false;
    }
  }

  /** A new stand-in node's address. */
  String add(int n) {
    String ns = "rfx-t" + tag + "-" + n;
    String host = "rfxh" + tag + "n" + n;
    String peer = "rfxp" + tag + "n" + n;
    String address = "10.213." + n + ".1";
    must("ip", "netns", "add", ns);
    namespaces.add(ns);
    must("ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns);
    links.add(host);
    must("ip", "addr", "add", address + "/24", "dev", host);
    must("ip", "link", "set", host, "up");
    must("ip", "-n", ns, "link", "set", peer, "up");
    must("ip", "-n", ns, "addr", "add", "10.213." + n + ".2/24", "dev", peer);
    return address;
  }

  @Override
  public void close() {
    links.forEach(l -> run("ip", "link", "del", l));
    namespaces.forEach(n -> run("ip", "netns", "del", n));
  }

  private static void must(String... cmd) {
    if (run(cmd) != 0) throw new IllegalStateException("failed: " + String.join(" ", cmd));
  }

  static int run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(20, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
