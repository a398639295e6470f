package io.reflex.agent.discovery;

/**
 * One reason a device belongs to someone else, in words an admin can act on (e.g. "/dev/vdb1 is mounted at /data").
 *
 * @param kind    what kind of use; {@link Kind#SIGNATURE} is the only kind the agent overlooks on a device it
 *                already serves (its tenants' data may carry any signature)
 * @param message the reason, naming the device and where it is used
 */
public record InUse(Kind kind, String message) {
  /** NETWORK: a NIC that carries the node's traffic (an address, a route, a bond or VLAN on it). */
  public enum Kind { MOUNTED, HOLDER, SWAP, PARTITIONS, SIGNATURE, ROOT, LOOP_BACKING, NOT_FOUND, UNREADABLE, NETWORK }
}
