package io.reflex.e2e;

import java.util.List;

/**
 * How a one-shot pod ended ({@link RealNode#runPod}): its final phase, its container's exit code, its log, and
 * where it ran (pod IP, host IP and node, as the API reported them).
 */
public record PodResult(String name, String phase, int exitCode, String logs, String podIP, String hostIP,
    String nodeName) {

  public boolean succeeded() {
    return "Succeeded".equals(phase) && exitCode == 0;
  }

  public List<String> lines() {
    return logs.lines().toList();
  }

  @Override
  public String toString() {
    return "pod " + name + " " + phase + " (exit " + exitCode + ") on " + nodeName + " at " + podIP + ", log:\n"
        + logs;
  }
}
